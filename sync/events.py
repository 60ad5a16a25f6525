"""Live progress of sync runs, pushed to browsers through the Channels layer."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from sync.consumers import SYNC_PROGRESS_GROUP

if TYPE_CHECKING:
    from sync.models import SyncRun

logger = logging.getLogger(__name__)


def sync_progress_publish(run: SyncRun) -> None:
    """Best effort: a broken channel layer must never fail the sync it reports on."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            SYNC_PROGRESS_GROUP, {"type": "sync.progress", "run": run.as_event()}
        )
    except Exception:
        logger.warning("Could not publish progress of sync run %s", run.pk, exc_info=True)
