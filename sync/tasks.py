"""Celery tasks for the Zoho sync: thin wrappers that start a run and report its outcome."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.contrib.auth import get_user_model

from sync.models import SyncKind, SyncRun, SyncTrigger
from sync.services import SyncAlreadyRunning, zoho_push, zoho_sync_with_push
from sync.services.pull import zoho_notified_fetch
from sync.services.watch import WatchNotConfigured, notifications_enabled, zoho_watch_ensure
from sync.zoho import ZohoError

logger = logging.getLogger(__name__)

# A full sync of a large org pages through tens of thousands of deals; each page is
# committed, so a run stopped at the limit resumes without loss.
SYNC_SOFT_TIME_LIMIT = 55 * 60
SYNC_TIME_LIMIT = 60 * 60


def _run(kind: str, trigger: str, user_id: int | None = None) -> int | None:
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        run = zoho_sync_with_push(kind=kind, trigger=trigger, user=user)
    except SyncAlreadyRunning as exc:
        logger.info("Skipped a %s sync: %s", kind, exc)
        return None
    logger.info("Sync run %s %s: %s", run.pk, run.status, run.as_event())
    return run.pk


@shared_task(soft_time_limit=SYNC_SOFT_TIME_LIMIT, time_limit=SYNC_TIME_LIMIT)
def zoho_sync_incremental(
    trigger: str = SyncTrigger.SCHEDULE, user_id: int | None = None
) -> int | None:
    """The scheduled pull (every ZOHO_SYNC_INTERVAL_MINUTES); full until one full run succeeded."""
    return _run(SyncKind.INCREMENTAL, trigger, user_id)


@shared_task(soft_time_limit=SYNC_SOFT_TIME_LIMIT, time_limit=SYNC_TIME_LIMIT)
def zoho_sync_full(trigger: str = SyncTrigger.MANUAL, user_id: int | None = None) -> int | None:
    return _run(SyncKind.FULL, trigger, user_id)


@shared_task(soft_time_limit=SYNC_SOFT_TIME_LIMIT, time_limit=SYNC_TIME_LIMIT)
def zoho_sync_on_startup() -> int | None:
    """A worker that starts on an empty installation fills it at once, not in 15 minutes."""
    if SyncRun.objects.has_succeeded_full():
        return None
    return _run(SyncKind.FULL, SyncTrigger.STARTUP)


@shared_task(soft_time_limit=SYNC_SOFT_TIME_LIMIT, time_limit=SYNC_TIME_LIMIT)
def zoho_push_task(trigger: str = SyncTrigger.EDIT) -> int | None:
    """Push local edits a short while after they were saved (debounced by sync.triggers).

    Skipped while another run holds the slot: the pull it belongs to pushes first anyway, and
    the next edit or scheduled pull pushes what is left.
    """
    try:
        run = zoho_push(trigger=trigger)
    except SyncAlreadyRunning as exc:
        logger.info("Skipped a push: %s", exc)
        return None
    return run.pk if run else None


# A notification arriving while a sync runs waits this long and tries again; after the last
# try the scheduled incremental pull (which reads every change since its watermark) has it.
NOTIFIED_RETRY_SECONDS = 20
NOTIFIED_MAX_RETRIES = 45


@shared_task(bind=True, max_retries=NOTIFIED_MAX_RETRIES, soft_time_limit=5 * 60, time_limit=6 * 60)
def zoho_notified_fetch_task(self: Any, operation: str, zoho_ids: list[str]) -> int | None:
    """Fetch and store the deals a Zoho notification named (sync.services.pull)."""
    try:
        run = zoho_notified_fetch(operation=operation, zoho_ids=zoho_ids)
    except SyncAlreadyRunning as exc:
        if self.request.is_eager or self.request.retries >= NOTIFIED_MAX_RETRIES:
            # Not lost: the scheduled incremental pull reads every change since its watermark.
            logger.info("Notified deals %s left to the scheduled pull: %s", zoho_ids[:10], exc)
            return None
        logger.info("Notified deals wait for the running sync: %s", exc)
        raise self.retry(countdown=NOTIFIED_RETRY_SECONDS) from None
    logger.info("Notified deals run %s %s: %s", run.pk, run.status, run.as_event())
    return run.pk


@shared_task
def zoho_watch_renew(force: bool = False) -> str | None:
    """Keep Zoho's notification channel alive: subscribe when there is none, renew it when
    little of it is left (Zoho lets a channel lapse after a day at most), or now (`force`:
    a worker starting, since what Zoho knows may have changed while none ran)."""
    if not notifications_enabled():
        return None
    try:
        return zoho_watch_ensure(force=force).action
    except (ZohoError, WatchNotConfigured) as exc:
        logger.warning("Zoho notification channel: %s", exc)
        return None


@worker_ready.connect
def _sync_when_worker_starts(**kwargs: Any) -> None:
    zoho_sync_on_startup.delay()
    if notifications_enabled():
        zoho_watch_renew.delay(force=True)
