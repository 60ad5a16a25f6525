"""Rescoring deals' health, and putting new thresholds in force."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from opportunities.data_version import deals_changed
from opportunities.health_rules import DEAL_FACTS, DealFacts, health_evaluate
from opportunities.models import HealthStatus, HealthThresholds, Opportunity
from pipeline_pulse.models import acting_user
from pipeline_pulse.storage.bulk import id_chunks, keyset_pages, rows_update

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

logger = logging.getLogger(__name__)

# How long the run over every deal waits for a row a sync page holds, once the rest is done.
LOCK_WAIT_SECONDS = 60
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's lock_not_available (lock_timeout ran out)


@dataclass
class HealthRecomputeResult:
    deals: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    # Deals asked for but not scored: gone, or held by a transaction longer than the run
    # waits (they are scored by the next run).
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
    values it just replaced.

    The run over every deal first skips rows another transaction holds (a sync page), so
    the rest is scored without waiting; then it scores those, waiting for the page to commit.
    A page rescores only the deals it changed: a deal it merely read would otherwise keep
    yesterday's health. Both lock in key order, so neither waits for the other in a circle;
    a row held longer than LOCK_WAIT_SECONDS (a stuck transaction) is left for the next run
    and counted as skipped.
    """
    today = today or timezone.localdate()
    size = chunk_size or settings.HEALTH_CHUNK_SIZE
    thresholds = HealthThresholds.objects.in_force()
    computed_at = timezone.now()
    result = HealthRecomputeResult()

    def rescore(ids: list[int], *, skip_locked: bool = False, wait: bool = False) -> list[int]:
        """Score these deals; the ids not scored (gone, or held by another transaction)."""
        try:
            with transaction.atomic():
                if wait:
                    _lock_timeout(f"{LOCK_WAIT_SECONDS}s")
                rows = list(
                    Opportunity.objects.filter(pk__in=ids)
                    .select_for_update(skip_locked=skip_locked)
                    .order_by("pk")
                    .values(*DEAL_FACTS)
                )
                if wait:
                    _lock_timeout(None)
                updates = []
                for row in rows:
                    facts = DealFacts.from_row(row)
                    health = health_evaluate(facts, today=today, thresholds=thresholds)
                    result.by_status[health.status] += 1
                    updates.append(
                        (facts.id, health.status, health.reasons_as_dicts(), computed_at)
                    )
                rows_update(
                    Opportunity,
                    fields=("health_status", "health_reasons", "health_computed_at"),
                    rows=updates,
                )
        except OperationalError as exc:
            if not wait or getattr(exc.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            logger.warning("Health recompute left %d deals held by another transaction", len(ids))
            return ids
        result.deals += len(updates)
        scored = {update[0] for update in updates}
        return [pk for pk in ids if pk not in scored]

    missed: list[int] = []
    if opportunity_ids is not None:
        for ids in id_chunks(opportunity_ids, size=size):
            missed += rescore(ids)
    else:
        tracked = Opportunity.objects.health_tracked().values_list("pk", flat=True)
        held: list[int] = []
        for ids in keyset_pages(tracked, size=size):
            held += rescore(ids, skip_locked=True)
        for ids in id_chunks(held, size=size):
            missed += rescore(ids, wait=True)
        if held:
            logger.info("Health recompute waited for %d deals being synced", len(held))
    result.skipped = len(missed)
    if result.deals:
        deals_changed()
    return result


def _lock_timeout(value: str | None) -> None:
    """How long this transaction waits for a row lock (None: the session's own setting)."""
    with connection.cursor() as cursor:
        if value is None:
            cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
        else:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [value])


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
