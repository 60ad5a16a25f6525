"""The sync screen: connection state, "Sync now", live progress and the run history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from opportunities.access import SYNC_ISSUE_ROLES, can_sync, deals_visible_to, sees_every_deal
from opportunities.roles import Role, role_of
from pipeline_pulse.dates import (
    BUSINESS_DATE_MESSAGE,
    EARLIEST_BUSINESS_DATE,
    LATEST_BUSINESS_DATE,
)
from pipeline_pulse.web.fragments import render_page
from sync.context_processors import live_by_websocket
from sync.freshness import data_freshness
from sync.models import SyncIssue, SyncKind, SyncRun, SyncStatus, ZohoWatchChannel
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


class BadParameter(ValueError):
    """A query parameter this page cannot use: answered 400, naming it."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")


def _bad_request(error: BadParameter) -> HttpResponse:
    return HttpResponseBadRequest(f"{error}\n", content_type="text/plain; charset=utf-8")


def _since(request: HttpRequest) -> datetime | None:
    raw = request.GET.get(SINCE_PARAM, "")
    if not raw:
        return None
    problem = "Give a date and time with its offset, e.g. 2026-11-25T10:00:00+08:00."
    try:
        moment = parse_datetime(raw)
    except ValueError:
        raise BadParameter(SINCE_PARAM, problem) from None
    if moment is None or not timezone.is_aware(moment):
        raise BadParameter(SINCE_PARAM, problem)
    try:
        day = timezone.localtime(moment).date()
    except OverflowError:  # 0001-01-01T00:00+14:00 is before the first day Python knows
        raise BadParameter(SINCE_PARAM, BUSINESS_DATE_MESSAGE) from None
    if not EARLIEST_BUSINESS_DATE <= day <= LATEST_BUSINESS_DATE:
        raise BadParameter(SINCE_PARAM, BUSINESS_DATE_MESSAGE)
    return moment


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


def _issues_visible_to(user: Any) -> QuerySet[SyncIssue]:
    """A skipped record names a deal and its bad value: every one to Admins and Managers, a
    Rep's own deals' to that Rep, none to anyone else."""
    role = role_of(user)
    if role in SYNC_ISSUE_ROLES and sees_every_deal(user):
        return SyncIssue.objects.all()
    if role is Role.REP or role in SYNC_ISSUE_ROLES:  # a Manager limited to territories too
        return SyncIssue.objects.filter(zoho_id__in=deals_visible_to(user).values("zoho_id"))
    return SyncIssue.objects.none()


def _watch_context() -> dict[str, Any]:
    """Zoho's notification channel as the page shows it: off, waiting to subscribe, active,
    or lapsed (the scheduled pull carries on either way)."""
    channel = ZohoWatchChannel.objects.filter(singleton=True).first()
    if not settings.ZOHO_NOTIFY_URL:
        state = "off"
    elif channel is None or not channel.channel_id or channel.expires_at is None:
        state = "pending"
    elif channel.is_active(timezone.now()):
        state = "active"
    else:
        state = "lapsed"
    return {"state": state, "channel": channel, "notify_url": settings.ZOHO_NOTIFY_URL}


def _page_context(request: HttpRequest, since: datetime | None) -> dict[str, Any]:
    return {
        "watch": _watch_context(),
        "configured": not ZohoClient.missing_credentials(),
        "api_domain": settings.ZOHO_API_DOMAIN,
        "interval": settings.ZOHO_SYNC_INTERVAL_MINUTES,
        "last_success": SyncRun.objects.latest_succeeded(),
        "last_failure": SyncRun.objects.latest_failed(),
        "runs": SyncRun.objects.history(
            RUNS_SHOWN, issues_per_run=ISSUES_PER_RUN, issues=_issues_visible_to(request.user)
        ),
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


@vary_on_headers("HX-Request")  # the page, or its fragment to htmx
@require_GET
def sync_page(request: HttpRequest) -> HttpResponse:
    try:
        since = _since(request)
    except BadParameter as error:
        return _bad_request(error)
    return _respond(request, _page_context(request, since))


@vary_on_headers("HX-Request")  # the page, or its fragment to htmx
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
        raise PermissionDenied(str(exc)) from exc  # the 403 page, in the layout
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
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    if seen and not (seen.isascii() and seen.isdigit()):
        return _bad_request(BadParameter("seen", "Give the id of a sync run, e.g. 42."))
    if seen and int(seen) != current.last_success_id:
        # A newer sync finished since the page was drawn: pages re-read what they show.
        response["HX-Trigger"] = "pulse:data-changed"
    return response
