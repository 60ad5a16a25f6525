"""The conditions Admins are alerted to, read from the data as it stands: each answer says
whether the condition holds and, when it does, what the mail tells them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alerts.models import AlertKind
from currency.services import fx_rates_status
from currency.staleness import EXPIRED_AFTER, Staleness
from opportunities.models import Conflict
from pipeline_pulse.display import moment
from sync.models import SyncKind, SyncRun, SyncStatus

FAILED_RUNS_IN_A_ROW = 3
CONFLICT_WAIT = timedelta(days=3)


@dataclass(frozen=True)
class Finding:
    kind: str
    holds: bool
    summary: str = ""
    lines: list[str] = field(default_factory=list)
    link: str = ""  # a path on the site (the mail makes it absolute)


def sync_failing() -> Finding:
    """The last three pulls (full or incremental, not pushes nor notification fetches) all
    failed."""
    pulls = (
        SyncRun.objects.filter(kind__in=(SyncKind.FULL, SyncKind.INCREMENTAL))
        .exclude(status=SyncStatus.RUNNING)
        .order_by("-started_at", "-pk")[:FAILED_RUNS_IN_A_ROW]
    )
    runs = list(pulls)
    holds = len(runs) == FAILED_RUNS_IN_A_ROW and all(
        run.status == SyncStatus.FAILED for run in runs
    )
    if not holds:
        return Finding(AlertKind.SYNC_FAILING, False)
    return Finding(
        AlertKind.SYNC_FAILING,
        True,
        summary=f"The last {FAILED_RUNS_IN_A_ROW} syncs with Zoho CRM failed: the deals on "
        "screen are not being updated.",
        lines=[f"{moment(run.started_at)}: {run.error or 'no error recorded'}" for run in runs],
        link="/sync/",
    )


def rates_expired(*, now: datetime) -> Finding:
    """A configured currency's rate in effect is more than 30 days old."""
    expired = [s for s in fx_rates_status(now=now) if s.staleness == Staleness.EXPIRED]
    if not expired:
        return Finding(AlertKind.RATES_EXPIRED, False)
    days = EXPIRED_AFTER.days
    return Finding(
        AlertKind.RATES_EXPIRED,
        True,
        summary=f"{len(expired)} exchange rate{'s' if len(expired) != 1 else ''} more than "
        f"{days} days old: SGD amounts in {'these currencies' if len(expired) != 1 else 'it'} "
        "are converted with an expired rate.",
        lines=[f"{s.currency}: rate of {moment(s.as_of)}" for s in expired],
        link="/admin/currency/",
    )


def conflicts_waiting(*, now: datetime) -> Finding:
    """Conflicts a person must settle, open for more than three days."""
    waiting = (
        Conflict.objects.open()
        .filter(detected_at__lt=now - CONFLICT_WAIT)
        .select_related("opportunity")
        .order_by("detected_at", "pk")
    )
    rows = list(waiting[:50])
    if not rows:
        return Finding(AlertKind.CONFLICTS_WAITING, False)
    total = waiting.count() if len(rows) == 50 else len(rows)
    return Finding(
        AlertKind.CONFLICTS_WAITING,
        True,
        summary=f"{total} conflict{'s' if total != 1 else ''} between an edit here and a change "
        f"in Zoho {'have' if total != 1 else 'has'} waited more than "
        f"{CONFLICT_WAIT.days} days for an Admin to decide.",
        lines=[
            f"{c.opportunity.name}: {c.field_label} (since {moment(c.detected_at)})" for c in rows
        ],
        link="/admin/opportunities/conflict/?status__exact=open",
    )


def findings(*, now: datetime) -> list[Finding]:
    return [sync_failing(), rates_expired(now=now), conflicts_waiting(now=now)]
