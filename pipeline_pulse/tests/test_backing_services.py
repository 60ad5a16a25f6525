"""Redis when configured; otherwise local fallbacks that still run background work."""

import os
import time
from pathlib import Path

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from pipeline_pulse.backing_services import backing_services
from pipeline_pulse.tests.settings_probe import settings_in_new_process


def test_redis_backs_cache_channels_and_broker(tmp_path: Path) -> None:
    services = backing_services(redis_url="redis://cache:6379/0", data_dir=tmp_path)
    assert services["CACHES"]["default"]["BACKEND"].endswith("RedisCache")
    assert services["CHANNEL_LAYERS"]["default"]["CONFIG"]["hosts"] == ["redis://cache:6379/0"]
    assert services["CELERY_BROKER_URL"] == "redis://cache:6379/0"
    assert not (tmp_path / "celery").exists()


def test_without_redis_everything_falls_back_to_local_files(tmp_path: Path) -> None:
    services = backing_services(redis_url="", data_dir=tmp_path)
    assert services["CACHES"]["default"]["BACKEND"].endswith("FileBasedCache")
    assert services["CHANNEL_LAYERS"]["default"]["BACKEND"].endswith("InMemoryChannelLayer")
    assert services["CELERY_BROKER_URL"] == "filesystem://"
    assert (tmp_path / "celery" / "queue").is_dir()


def test_filesystem_broker_delivers_tasks_to_a_worker(tmp_path: Path) -> None:
    """The embedded mode's broker really carries a task from a producer to a worker."""
    options = backing_services(redis_url="", data_dir=tmp_path)["CELERY_BROKER_TRANSPORT_OPTIONS"]
    app = Celery("embedded-test", broker="filesystem://", broker_transport_options=options)
    app.conf.task_serializer = "json"
    received: list[int] = []

    @app.task(name="embedded.record")
    def record(value: int) -> None:
        received.append(value)

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        record.delay(42)
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
    assert received == [42]


def test_settings_without_redis_url_use_the_fallbacks(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["DATA_DIR"] = str(tmp_path)
    out = settings_in_new_process(
        env, "settings.CELERY_BROKER_URL, settings.CACHES['default']['BACKEND']"
    )
    assert out.split() == ["filesystem://", "django.core.cache.backends.filebased.FileBasedCache"]


@pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL is not set (CI sets it)")
def test_configured_redis_really_serves_the_cache() -> None:
    from django.core.cache import cache

    cache.set("probe", "value", 5)
    assert cache.get("probe") == "value"
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")


def test_an_empty_database_url_means_the_embedded_sqlite_file(tmp_path: Path) -> None:
    # As in a .env copied from .env.example, where DATABASE_URL= is present but empty.
    env = {**os.environ, "DATABASE_URL": "", "DATA_DIR": str(tmp_path)}
    out = settings_in_new_process(
        env, "settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME']"
    )
    engine, name = out.split()
    assert engine == "django.db.backends.sqlite3"
    assert name == str(settings.BASE_DIR / "db.sqlite3")
