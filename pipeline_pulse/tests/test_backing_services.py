"""Redis when configured; otherwise local fallbacks that still run background work."""

import os
import time
from pathlib import Path

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from pipeline_pulse.settings.backing_services import backing_services
from pipeline_pulse.tests.settings_probe import settings_in_new_process


def test_redis_backs_cache_channels_and_broker_each_in_a_database_of_its_own(
    tmp_path: Path,
) -> None:
    services = backing_services(redis_url="redis://cache:6379/0", data_dir=tmp_path)
    assert services["CACHES"]["default"]["BACKEND"].endswith("RedisCache")
    assert services["CACHES"]["default"]["LOCATION"] == "redis://cache:6379/0"
    assert services["CELERY_BROKER_URL"] == "redis://cache:6379/1"
    assert services["CHANNEL_LAYERS"]["default"]["CONFIG"]["hosts"] == ["redis://cache:6379/2"]
    assert not (tmp_path / "celery").exists()


def test_the_broker_and_the_channels_layer_can_be_named(tmp_path: Path) -> None:
    services = backing_services(
        redis_url="redis://:secret@cache:6379",
        broker_url="redis://queue:6379/0",
        channels_url="redis://cache:6379/5",
        data_dir=tmp_path,
    )
    assert services["CACHES"]["default"]["LOCATION"] == "redis://:secret@cache:6379"
    assert services["CELERY_BROKER_URL"] == "redis://queue:6379/0"
    assert services["CHANNEL_LAYERS"]["default"]["CONFIG"]["hosts"] == ["redis://cache:6379/5"]
    derived = backing_services(redis_url="rediss://:secret@cache:6380/3", data_dir=tmp_path)
    assert derived["CELERY_BROKER_URL"] == "rediss://:secret@cache:6380/4"


def test_a_shared_database_or_a_database_that_is_no_number_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="three different"):
        backing_services(
            redis_url="redis://cache:6379/0", broker_url="redis://cache:6379/0", data_dir=tmp_path
        )
    with pytest.raises(ImproperlyConfigured, match="must be a number"):
        backing_services(redis_url="redis://cache:6379/one", data_dir=tmp_path)


@pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL is not set (CI sets it)")
def test_a_cache_clear_leaves_the_task_queue_alone() -> None:
    import redis
    from django.core.cache import cache

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.lpush("pipeline-pulse-test-queue", "task")
    try:
        cache.set("figure", 1, 30)
        cache.clear()
        assert broker.llen("pipeline-pulse-test-queue") == 1
    finally:
        broker.delete("pipeline-pulse-test-queue")


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
    # Empty rather than absent: the process environment wins over a developer's .env.
    env = {**os.environ, "REDIS_URL": "", "CELERY_BROKER_URL": "", "DATA_DIR": str(tmp_path)}
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
