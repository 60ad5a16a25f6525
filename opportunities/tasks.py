"""Background work on deals: the nightly health recompute and pipeline snapshot, and Monday's
weekly digest e-mail."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from opportunities.services import health_recompute
from opportunities.services.digests import digests_send
from opportunities.services.lifecycle import opportunities_place_arrived_milestones
from opportunities.services.snapshots import pipeline_snapshot_take
from pipeline_pulse.storage.advisory_locks import advisory_lock_try

logger = logging.getLogger(__name__)

# Beat sends the nightly run once, but a second beat started by mistake, or a message
# redelivered after its worker died, queues it again while it runs: two runs would rescore
# every deal twice over and fight over the same rows ("HEAL" in ASCII).
HEALTH_DAILY_LOCK_KEY = 0x4845414C


@shared_task(name="opportunities.health_daily")
def health_daily() -> dict[str, int]:
    """Raise the phase of deals whose milestone date has come, rescore every open and won deal
    for the new business day, then snapshot the pipeline.

    Beat runs it at 00:05 Asia/Singapore. A failure leaves yesterday's scores in place and
    raises, so the worker logs it; running it again is safe (both steps are idempotent).
    While another worker runs it, it does nothing and returns no counts.
    """
    with advisory_lock_try(HEALTH_DAILY_LOCK_KEY) as taken:
        if not taken:
            logger.info("Nightly health recompute skipped: another worker is running it")
            return {}
        return _health_daily()


def _health_daily() -> dict[str, int]:
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


@shared_task(name="opportunities.weekly_digests")
def weekly_digests() -> dict[str, int]:
    """Monday 08:00 Asia/Singapore (beat): last week's digest to everyone who wants it. Safe
    to run again or twice at once: a login gets one digest a week (SentDigest)."""
    if not settings.WEEKLY_DIGEST_ENABLED:
        logger.info("Weekly digest not sent: WEEKLY_DIGEST_ENABLED is off")
        return {"sent": 0, "already_sent": 0, "failed": 0}
    run = digests_send()
    return {"sent": len(run.sent), "already_sent": len(run.already_sent), "failed": len(run.failed)}
