"""The sync screen: connection state, "Sync now", live progress and the run history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from opportunities.access import can_sync
from pipeline_pulse.fragments import render_page
from sync.context_processors import live_by_websocket
from sync.freshness import data_freshness
from sync.models import SyncKind, SyncRun, SyncStatus
from sync.services import SyncAlreadyRunning
from sync.triggers import SyncNotAllowed, sync_request
from sync.zoho import ZohoClient

RUNS_SHOWN = 20
ISSUES_PER_RUN = 10
# After "Sync now", how long the page waits for the worker to pick the run up.
AWAIT_START = timedelta(minutes=2)
# A run a little older than the click still counts as its own (clocks, queue latency).
START_MARGIN = timedelta(seconds=5)
SINCE_PARAM = "since"


def _since(request: HttpRequest) -> datetime | None:
    raw = request.GET.get(SINCE_PARAM, "")
    try:
        moment = parse_datetime(raw) if raw else None
    except ValueError:
        return None
    return moment if moment and timezone.is_aware(moment) else None


def _sync_url(since: datetime | None) -> str:
    """The sync page, following the runs started since a click on "Sync now"."""
    return reverse("sync") + (f"?{urlencode({SINCE_PARAM: since.isoformat()})}" if since else "")


def _live_context(request: HttpRequest, since: datetime | None) -> dict[str, Any]:
    now = timezone.now()
    running = SyncRun.objects.running().first()
    started_since = None
    if since is not None:
        started_since = (
            SyncRun.objects.filter(started_at__gte=since - START_MARGIN)
            .order_by("-started_at")
            .first()
        )
    awaiting = since is not None and started_since is None and now - since < AWAIT_START
    polling = not live_by_websocket() and (running is not None or awaiting)
    return {
        "running": running,
        "awaiting": awaiting,
        "since": since,
        "polling": polling,
        # Polling, or re-fetched on a sync event: either way still following the same click.
        "poll_url": _sync_url(since),
        "finished_since": started_since
        if started_since and started_since.status != SyncStatus.RUNNING
        else None,
    }


def _page_context(request: HttpRequest, since: datetime | None) -> dict[str, Any]:
    return {
        "configured": not ZohoClient.missing_credentials(),
        "api_domain": settings.ZOHO_API_DOMAIN,
        "interval": settings.ZOHO_SYNC_INTERVAL_MINUTES,
        "last_success": SyncRun.objects.latest_succeeded(),
        "last_failure": SyncRun.objects.latest_failed(),
        "runs": SyncRun.objects.history(RUNS_SHOWN, issues_per_run=ISSUES_PER_RUN),
        "runs_shown": RUNS_SHOWN,
        "issues_per_run": ISSUES_PER_RUN,
        "can_sync": can_sync(request.user),
        "kinds": SyncKind,
        **_live_context(request, since),
    }


def _respond(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    response = render_page(request, "sync/sync.html", context, fragment="live", status=status)
    if context.get("finished_since") is not None:
        # The run this page was waiting for is over: the header and any board refresh.
        response["HX-Trigger"] = "pulse:sync-finished"
    return response


@require_GET
def sync_page(request: HttpRequest) -> HttpResponse:
    return _respond(request, _page_context(request, _since(request)))


@require_POST
def sync_start(request: HttpRequest) -> HttpResponse:
    """Queue "Sync now" (incremental) or "Full sync"; Managers and Admins only."""
    kind = SyncKind.FULL if request.POST.get("kind") == SyncKind.FULL else SyncKind.INCREMENTAL
    since: datetime | None = timezone.now()
    status = 200
    try:
        text = sync_request(kind=kind, user=request.user)  # type: ignore[arg-type]
        level = messages.SUCCESS
    except SyncNotAllowed as exc:
        return HttpResponseForbidden(str(exc))
    except SyncAlreadyRunning as exc:
        text, level, status, since = f"{exc} Its progress shows below.", messages.WARNING, 409, None
    if not request.htmx:  # type: ignore[attr-defined]
        messages.add_message(request, level, text)
        return HttpResponseRedirect(_sync_url(since))
    context = _page_context(request, since)
    context["notice"] = {"text": text, "level": "success" if status == 200 else "warning"}
    return _respond(request, context, status=status)


@require_GET
def freshness(request: HttpRequest) -> HttpResponse:
    """The header's freshness line; tells the page when a newer sync has finished."""
    current = data_freshness()
    response = render(
        request,
        "base.html#freshness",
        {"freshness": current, "live_by_websocket": live_by_websocket()},
    )
    seen = request.GET.get("seen", "")
    if seen.isdigit() and int(seen) != current.last_success_id:
        # A newer sync finished since the page was drawn: pages re-read what they show.
        response["HX-Trigger"] = "pulse:data-changed"
    return response
