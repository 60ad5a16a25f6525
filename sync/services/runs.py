"""A sync run's life, pull or push: one at a time across processes, failed with its reason,
finished and counted; the issues it records."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from opportunities.data_version import deals_changed
from opportunities.models import Opportunity
from pipeline_pulse.observability.request_ids import current_request_id
from sync import run_lock
from sync.freshness import freshness_changed
from sync.metrics import sync_run_count
from sync.models import SyncIssue, SyncKind, SyncRun, SyncRunQuerySet, SyncState, SyncStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[SyncRun], None]

ABANDONED = (
    "Abandoned: the process running it stopped (its database session ended) before it finished."
)


class SyncAlreadyRunning(Exception):
    def __init__(self, run: SyncRun | None) -> None:
        self.run = run
        started = timezone.localtime(run.started_at).strftime("%H:%M:%S") if run else "just now"
        super().__init__(f"A sync is already running (started {started}).")


def sync_run_start(*, kind: str, trigger: str, user: User | None = None) -> SyncRun:
    """Claim the single running slot, which the database guarantees across processes.

    The run holds a PostgreSQL advisory lock for its lifetime, which the database releases
    the moment the process's connection dies (a deploy, an OOM kill, `kill -9`): whoever gets
    the lock knows any run still marked running is an orphan, and marks it abandoned at once.
    """
    if not run_lock.acquire():
        raise SyncAlreadyRunning(SyncRun.objects.running().first())
    _abandon(SyncRun.objects.running(), ABANDONED)
    try:
        return _run_create(kind=kind, trigger=trigger, user=user)
    except SyncAlreadyRunning:
        run_lock.release()
        raise


def sync_run_in_progress() -> SyncRun | None:
    """The run going on now, if any. A run still marked running whose lock is free belongs to
    a process that died (its database session ended): it is abandoned here, so a person
    asking for a sync is not refused until the next scheduled run notices."""
    running = SyncRun.objects.running().first()
    if running is None or not run_lock.acquire():
        return running
    try:
        _abandon(SyncRun.objects.running(), ABANDONED)
    finally:
        run_lock.release()
    return None


def _abandon(runs: SyncRunQuerySet, reason: str) -> None:
    if runs.update(status=SyncStatus.FAILED, finished_at=timezone.now(), error=reason):
        freshness_changed()  # an UPDATE saves no model: the header is told here


def _run_create(*, kind: str, trigger: str, user: User | None) -> SyncRun:
    state = SyncState.load()
    expected = Opportunity.objects.live().count() if kind == SyncKind.FULL else None
    try:
        with transaction.atomic():
            return SyncRun.objects.create(
                kind=kind,
                trigger=trigger,
                triggered_by=user,
                # The request that queued this run, when one did: its log lines carry it too.
                request_id=current_request_id(),
                watermark_before=state.modified_watermark,
                expected_total=expected or None,
            )
    except IntegrityError:
        raise SyncAlreadyRunning(SyncRun.objects.running().first()) from None


def sync_run_failed(run: SyncRun, exc: Exception) -> None:
    """Note why a run failed: Zoho's own error as it stands, anything else as unexpected."""
    from sync.zoho import ZohoError

    run.status = SyncStatus.FAILED
    what = "push" if run.kind == SyncKind.PUSH else "sync"
    if isinstance(exc, ZohoError):
        run.error = str(exc)
        logger.warning("Zoho %s %s failed: %s", what, run.pk, exc)
    else:
        run.error = f"Unexpected error: {type(exc).__name__}: {exc}"
        logger.exception("Zoho %s %s failed unexpectedly", what, run.pk)


def sync_run_finish(run: SyncRun, *, api_calls: int | None) -> None:
    """End a run, pull or push: free the one-run slot, stamp, store and count it."""
    run_lock.release()
    run.finished_at = timezone.now()
    if api_calls is not None:
        run.api_calls = api_calls
    run.save()
    sync_run_count(run)
    # What the run wrote (all of it, or the pages committed before it failed) shows at once.
    deals_changed()


def sync_run_discard(run: SyncRun) -> None:
    """Free the slot of a run that found nothing left to do once it held it, leaving no
    trace in the run history."""
    run_lock.release()
    run.delete()


def sync_issue_add(run: SyncRun, zoho_id: str, severity: str, reason: str) -> None:
    """List a record the run (pull or push) could not take as it was, with the reason."""
    SyncIssue.objects.create(run=run, zoho_id=zoho_id, severity=severity, reason=reason[:500])
