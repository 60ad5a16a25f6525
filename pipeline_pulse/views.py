"""Liveness and readiness probes for the orchestrator; they are the only anonymous pages."""

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


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
    """Ready when the database and the cache answer; 503 otherwise, naming what failed."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        cache.set("readiness-probe", "ok", timeout=5)
        checks["cache"] = "ok" if cache.get("readiness-probe") == "ok" else "error: no read-back"
    except Exception as exc:  # noqa: BLE001
        checks["cache"] = f"error: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503
    )
