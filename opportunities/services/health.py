"""Rescoring deals' health, and putting new thresholds in force."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from opportunities.data_version import deals_changed
from opportunities.health_rules import DEAL_FACTS, DealFacts, health_evaluate
from opportunities.models import HealthStatus, HealthThresholds, Opportunity
from pipeline_pulse.bulk import id_chunks, keyset_pages, rows_update
from pipeline_pulse.models import acting_user

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

logger = logging.getLogger(__name__)


@dataclass
class HealthRecomputeResult:
    deals: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    # Deals asked for but not scored: gone, or locked by a sync that rescores them itself.
    skipped: int = 0

    def counts(self) -> dict[str, int]:
        """Deals per state, every state listed (zero included), worst first."""
        order = (HealthStatus.DANGER, HealthStatus.WARNING, HealthStatus.SUCCESS)
        return {status.value: self.by_status[status] for status in (*order, HealthStatus.NEUTRAL)}


def health_recompute(
    *,
    opportunity_ids: Collection[int] | None = None,
    today: date | None = None,
    chunk_size: int | None = None,
) -> HealthRecomputeResult:
    """Recompute and store the health of the given deals, or of every open and won live deal.

    Works in primary-key chunks: each chunk's rows are locked, scored and written with one
    statement, then committed (unless the caller holds a transaction), so memory stays
    bounded, the query count depends on the number of chunks only, and no long lock is held.
    The lock keeps a concurrent sync from being overwritten with health computed from the
    values it just replaced. The run over every deal skips rows another transaction holds
    (a sync page rescoring them itself) rather than wait: it can then never deadlock with one.
    """
    today = today or timezone.localdate()
    size = chunk_size or settings.HEALTH_CHUNK_SIZE
    thresholds = HealthThresholds.objects.in_force()
    computed_at = timezone.now()
    result = HealthRecomputeResult()

    def rescore(ids: list[int], *, skip_locked: bool) -> None:
        with transaction.atomic():
            rows = (
                Opportunity.objects.filter(pk__in=ids)
                .select_for_update(skip_locked=skip_locked)
                .order_by("pk")
                .values(*DEAL_FACTS)
            )
            updates = []
            for row in rows:
                facts = DealFacts.from_row(row)
                health = health_evaluate(facts, today=today, thresholds=thresholds)
                result.by_status[health.status] += 1
                updates.append((facts.id, health.status, health.reasons_as_dicts(), computed_at))
            rows_update(
                Opportunity,
                fields=("health_status", "health_reasons", "health_computed_at"),
                rows=updates,
            )
        result.deals += len(updates)
        result.skipped += len(ids) - len(updates)

    if opportunity_ids is not None:
        for ids in id_chunks(opportunity_ids, size=size):
            rescore(ids, skip_locked=False)
    else:
        tracked = Opportunity.objects.health_tracked().values_list("pk", flat=True)
        for ids in keyset_pages(tracked, size=size):
            rescore(ids, skip_locked=True)
        if result.skipped:
            logger.info("Health recompute skipped %d deals being synced", result.skipped)
    if result.deals:
        deals_changed()
    return result


@transaction.atomic
def health_thresholds_save(
    *, thresholds: HealthThresholds, user: AbstractBaseUser | AnonymousUser | None
) -> HealthRecomputeResult:
    """Put new thresholds in force (as a new row: the old ones stay as history) and rescore."""
    thresholds.pk = None
    thresholds.created_at = timezone.now()
    thresholds.created_by = acting_user(user)
    thresholds.full_clean()
    thresholds.save(force_insert=True)
    return health_recompute()
