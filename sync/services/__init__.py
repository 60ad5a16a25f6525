"""The sync app's services: the only code that starts runs, pulls from Zoho and pushes to it.

- runs: a run's life (one at a time across processes, failed, finished), and its issues;
- pull: full and incremental pulls, deletions, unread records;
- push: local edits sent to Zoho in batches, and Zoho's answers.
The schedule, `manage.py zoho_sync` and "Sync now" start a pull through zoho_sync_with_push.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sync.models import SyncRun
from sync.services.pull import DealSource, zoho_sync
from sync.services.push import PushTarget, zoho_push
from sync.services.runs import (
    ProgressCallback,
    SyncAlreadyRunning,
    sync_issue_add,
    sync_run_failed,
    sync_run_finish,
    sync_run_in_progress,
    sync_run_start,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "DealSource",
    "ProgressCallback",
    "PushTarget",
    "SyncAlreadyRunning",
    "sync_issue_add",
    "sync_run_failed",
    "sync_run_finish",
    "sync_run_in_progress",
    "sync_run_start",
    "zoho_push",
    "zoho_sync",
    "zoho_sync_with_push",
]


def zoho_sync_with_push(
    *,
    kind: str,
    trigger: str,
    user: User | None = None,
    progress: ProgressCallback | None = None,
) -> SyncRun:
    """A pull as the schedule, the command and "Sync now" run it: pending local edits are
    pushed first, so the pull's merge finds them already in Zoho. Raises SyncAlreadyRunning
    when another run holds the slot."""
    zoho_push(trigger=trigger, user=user)
    return zoho_sync(kind=kind, trigger=trigger, user=user, progress=progress)
