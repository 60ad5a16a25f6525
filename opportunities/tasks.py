"""Background work on deals: the nightly health recompute and pipeline snapshot."""

from __future__ import annotations

import logging

from celery import shared_task

from opportunities.services import health_recompute
from opportunities.services.lifecycle import opportunities_place_arrived_milestones
from opportunities.services.snapshots import pipeline_snapshot_take

logger = logging.getLogger(__name__)


@shared_task(name="opportunities.health_daily")
def health_daily() -> dict[str, int]:
    """Raise the phase of deals whose milestone date has come, rescore every open and won deal
    for the new business day, then snapshot the pipeline.

    Beat runs it at 00:05 Asia/Singapore. A failure leaves yesterday's scores in place and
    raises, so the worker logs it; running it again is safe (both steps are idempotent).
    """
    milestones = opportunities_place_arrived_milestones()
    result = health_recompute()
    snapshot = pipeline_snapshot_take()
    logger.info(
        "%d deals moved on milestones that arrived; health recomputed for %d deals %s; "
        "snapshot of %s stored",
        milestones.moved,
        result.deals,
        result.counts(),
        snapshot[0].day if snapshot else "today",
    )
    return result.counts()
