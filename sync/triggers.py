"""Starting a sync on a person's behalf: the admin's "Sync now", the sync page and the API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache

from opportunities.access import can_sync
from sync.models import SyncKind, SyncTrigger
from sync.services import SyncAlreadyRunning, sync_run_in_progress
from sync.tasks import zoho_push_task, zoho_sync_full, zoho_sync_incremental

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class SyncNotAllowed(Exception):
    """The login may not start a sync (only Managers and Admins may)."""


def sync_request(*, kind: str, user: User) -> str:
    """Queue a sync for the worker on a person's behalf; what to tell them.

    Raises SyncNotAllowed for a login whose role does not sync, and SyncAlreadyRunning while a
    run is in progress (the run itself checks again when it starts, across processes). The
    admin's "Sync now", the sync page and the API all start runs through here.
    """
    if kind not in (SyncKind.FULL, SyncKind.INCREMENTAL):
        raise ValueError(f"Unknown sync kind {kind!r}: use full or incremental.")
    if not can_sync(user):
        raise SyncNotAllowed("Only Managers and Admins may start a sync.")
    running = sync_run_in_progress()
    if running is not None:
        raise SyncAlreadyRunning(running)
    task = zoho_sync_full if kind == SyncKind.FULL else zoho_sync_incremental
    task.delay(trigger=SyncTrigger.MANUAL, user_id=user.pk)
    label = "A full" if kind == SyncKind.FULL else "An incremental"
    return f"{label} sync was queued; its progress shows here as it runs."


PUSH_QUEUED_KEY = "sync:push-queued:v1"


def zoho_push_soon() -> bool:
    """Queue one push a short while after local edits, so edits made together go in one
    batch; False when one is already queued for this window."""
    delay = settings.ZOHO_PUSH_DEBOUNCE_SECONDS
    if not cache.add(PUSH_QUEUED_KEY, True, timeout=max(delay, 1)):
        return False
    zoho_push_task.apply_async(countdown=delay)
    return True
