"""/healthz and /readyz: anonymous, JSON, and naming the check that failed."""

from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from pytest_django import Settings

pytestmark = pytest.mark.django_db

CLOSED_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_liveness_and_readiness_need_no_login(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "migrations": "ok",
        "broker": "ok",
    }


def test_readiness_reports_a_stopped_redis_as_cache_and_broker(
    client: Client, settings: Settings
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "pipeline_pulse.storage.redis_cache.ReusingRedisCache",
            "LOCATION": CLOSED_REDIS,
        }
    }
    settings.CELERY_BROKER_URL = CLOSED_REDIS
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["cache"] == "error: ConnectionError"
    assert body["broker"] == "error: ConnectionError"
    assert (body["database"], body["migrations"]) == ("ok", "ok")


def test_readiness_reports_unapplied_migrations(client: Client) -> None:
    # As if this release's newest migration had not run yet (rolled back after the test).
    (newest,) = MigrationLoader(connection).graph.leaf_nodes("sync")
    MigrationRecorder(connection).migration_qs.filter(app="sync", name=newest[1]).delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["migrations"] == "error: 1 unapplied"
    assert response.json()["database"] == "ok"


def test_the_embedded_broker_is_ready_while_its_folder_can_be_written(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}
    assert client.get("/readyz").json()["broker"] == "ok"

    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "gone")}
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["broker"] == "error: broker folder not writable"


def test_probes_are_not_redirected_to_https(client: Client, settings: Settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/accounts/login/").status_code == 301
