"""Celery tasks for the Zoho sync: thin wrappers that start a run and report its outcome."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.contrib.auth import get_user_model

from sync.models import SyncKind, SyncRun, SyncTrigger
from sync.services import SyncAlreadyRunning, zoho_push, zoho_sync_with_push

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


@worker_ready.connect
def _sync_when_worker_starts(**kwargs: Any) -> None:
    zoho_sync_on_startup.delay()
