"""Liveness and readiness probes for the orchestrator; with /metrics, the only anonymous URLs."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import redis
import structlog
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = structlog.get_logger(__name__)

# A dead Redis refuses at once; one that does not answer must not hold the probe for long.
BROKER_TIMEOUT_SECONDS = 2


@require_GET
@never_cache
@login_not_required
def liveness(request: HttpRequest) -> JsonResponse:
    """The process answers: nothing else is checked, so a slow database never restarts it."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
@login_not_required
def readiness(request: HttpRequest) -> JsonResponse:
    """Ready when every check passes; 503 otherwise, with each check's result named."""
    checks: dict[str, Callable[[], str]] = {
        "database": _database,
        "cache": _cache,
        "migrations": _migrations,
    }
    if settings.CELERY_BROKER_URL:
        checks["broker"] = _broker
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            logger.warning("readiness_check_failed", check=name, error=repr(exc))
            results[name] = f"error: {type(exc).__name__}"
    ready = all(value == "ok" for value in results.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", **results}, status=200 if ready else 503
    )


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _cache() -> str:
    cache.set("readiness-probe", "ok", timeout=5)
    return "ok" if cache.get("readiness-probe") == "ok" else "error: no read-back"


def _migrations() -> str:
    """Every migration on disk is applied: code newer than its schema does not serve."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return "ok"
    unapplied = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    logger.warning("readiness_unapplied_migrations", migrations=unapplied)
    return f"error: {len(unapplied)} unapplied"


def _broker() -> str:
    """Redis answers a ping; the embedded file-system broker's folder can be written to."""
    url: str = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        if folder.is_dir() and os.access(folder, os.W_OK):
            return "ok"
        return "error: broker folder not writable"
    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()
    return "ok"
