"""Daily pipeline snapshots: totals by phase and by health, taken live or rebuilt for past days.

A snapshot of day D describes the pipeline at the start of D (beat takes it at 00:05, right
after the daily health recompute), with D's health. The pipeline is every live open deal and
every won deal until its revenue is recognised; lost deals are not pipeline.

A past day is rebuilt from today's rows by rolling back what the history recorded since:
- the change events give the old closing date and outcome, the SGD value of the deal's own
  amount and currency changes since D comes off its SGD amount, the phase transitions give
  the old phase, and closing-date pushes since D come off the push count; a slip into a
  later quarter recorded since D is not counted on D;
- a deal counts if it was created (in Zoho, else first seen) before D and, if deleted, deleted
  on or after D; milestones dated after D count as not reached;
- health is evaluated afresh for D with the thresholds in force now.
What the history does not record stays as it is today: probability (so the weighted total),
milestone dates themselves, SGD amounts that moved with exchange rates or went from none to
some, and deals' state before Pipeline Pulse first saw them. The "no change in Zoho" rule is
skipped, since past modification times are not kept. Rebuilt rows are marked "reconstructed".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from opportunities.health_rules import DEAL_FACTS, DealFacts, health_evaluate
from opportunities.models import (
    ChangeEvent,
    ChangeKind,
    HealthStatus,
    HealthThresholds,
    Opportunity,
    Outcome,
    Phase,
    PhaseTransition,
    PipelineSnapshot,
    SnapshotDimension,
    SnapshotSource,
)
from pipeline_pulse.dates import start_of_day

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


@dataclass
class _Bucket:
    deals: int = 0
    amount_sgd: Decimal = Decimal(0)
    weighted_sgd: Decimal = Decimal(0)
    without_sgd: int = 0


@dataclass
class PipelineTotals:
    """Running totals of one day's pipeline, by phase and by health."""

    by_phase: dict[str, _Bucket] = field(
        default_factory=lambda: {str(phase): _Bucket() for phase in Phase.values}
    )
    by_health: dict[str, _Bucket] = field(
        default_factory=lambda: {status: _Bucket() for status in HealthStatus.values}
    )

    def add(
        self, *, phase: int, health: str, amount_sgd: Decimal | None, probability: int | None
    ) -> None:
        for bucket in (self.by_phase[str(phase)], self.by_health[health]):
            bucket.deals += 1
            if amount_sgd is None:
                bucket.without_sgd += 1
                continue
            bucket.amount_sgd += amount_sgd
            # A deal without a probability adds nothing to the weighted total.
            bucket.weighted_sgd += amount_sgd * (probability or 0) / HUNDRED

    def rows(self, day: date, source: str) -> list[PipelineSnapshot]:
        now = timezone.now()
        return [
            PipelineSnapshot(
                day=day,
                dimension=dimension,
                bucket=key,
                deal_count=bucket.deals,
                amount_sgd=bucket.amount_sgd.quantize(CENT, ROUND_HALF_UP),
                weighted_sgd=bucket.weighted_sgd.quantize(CENT, ROUND_HALF_UP),
                without_sgd_count=bucket.without_sgd,
                source=source,
                created_at=now,
            )
            for dimension, buckets in (
                (SnapshotDimension.PHASE, self.by_phase),
                (SnapshotDimension.HEALTH, self.by_health),
            )
            for key, bucket in buckets.items()
        ]


def _store(day: date, totals: PipelineTotals, source: str) -> list[PipelineSnapshot]:
    """Replace the day's rows: re-running a day never duplicates it."""
    with transaction.atomic():
        PipelineSnapshot.objects.filter(day=day).delete()
        return PipelineSnapshot.objects.bulk_create(totals.rows(day, source))


def pipeline_snapshot_take() -> list[PipelineSnapshot]:
    """Store today's totals from the deals as they stand, with their stored health."""
    day = timezone.localdate()
    totals = PipelineTotals()
    rows = Opportunity.objects.in_pipeline(day).values_list(
        "phase", "health_status", "amount_sgd", "probability"
    )
    for phase, health, amount_sgd, probability in rows.iterator(
        chunk_size=settings.HEALTH_CHUNK_SIZE
    ):
        totals.add(phase=phase, health=health, amount_sgd=amount_sgd, probability=probability)
    return _store(day, totals, SnapshotSource.LIVE)


@dataclass
class _History:
    """What changed from the start of a day until now, to roll each deal back."""

    phase_before: dict[int, int | None] = field(default_factory=dict)
    first_seen_phase: dict[int, int] = field(default_factory=dict)
    outcome_before: dict[int, str] = field(default_factory=dict)
    closing_date_before: dict[int, date] = field(default_factory=dict)
    # The SGD value of the deal's own amount and currency changes since, to take back off.
    amount_sgd_since: dict[int, Decimal] = field(default_factory=dict)
    pushes_since: Counter[int] = field(default_factory=Counter)


_OUTCOME_KINDS = (ChangeKind.WON, ChangeKind.LOST, ChangeKind.REOPENED)
_DATE_KINDS = (ChangeKind.CLOSING_DATE_PUSHED, ChangeKind.CLOSING_DATE_PULLED_IN)
_AMOUNT_KINDS = (ChangeKind.AMOUNT_UP, ChangeKind.AMOUNT_DOWN, ChangeKind.CURRENCY_CHANGED)


def _history_since(day: date) -> _History:
    cutoff = start_of_day(day)
    history = _History()
    transitions = (
        PhaseTransition.objects.filter(occurred_at__gte=cutoff)
        .order_by("occurred_at", "id")
        .values_list("opportunity_id", "from_phase", "to_phase")
    )
    for deal_id, from_phase, to_phase in transitions.iterator(chunk_size=5000):
        if deal_id not in history.phase_before:  # the earliest change since D knows D's value
            history.phase_before[deal_id] = from_phase
            if from_phase is None:
                history.first_seen_phase[deal_id] = to_phase
    events = (
        ChangeEvent.objects.filter(occurred_at__gte=cutoff)
        .exclude(kind=ChangeKind.NEW)
        .order_by("occurred_at", "id")
        .values_list("opportunity_id", "kind", "old_value", "sgd_value")
    )
    for deal_id, kind, old_value, sgd_value in events.iterator(chunk_size=5000):
        if kind in _OUTCOME_KINDS:
            history.outcome_before.setdefault(deal_id, old_value)
        elif kind in _DATE_KINDS:
            history.closing_date_before.setdefault(deal_id, date.fromisoformat(old_value))
            if kind == ChangeKind.CLOSING_DATE_PUSHED:
                history.pushes_since[deal_id] += 1
        elif kind in _AMOUNT_KINDS and sgd_value is not None:
            history.amount_sgd_since[deal_id] = (
                history.amount_sgd_since.get(deal_id, Decimal(0)) + sgd_value
            )
    return history


def _as_of(row: dict[str, Any], day: date, history: _History) -> DealFacts | None:
    """The deal as it stood at the start of `day`, or None if it was not in the pipeline."""
    cutoff = start_of_day(day)
    deal_id = row["id"]
    born = row["zoho_created_time"] or row["created_at"]
    if born >= cutoff:
        return None
    if row["is_deleted"] and (row["deleted_at"] is None or row["deleted_at"] < cutoff):
        return None
    phase = history.phase_before.get(deal_id, row["phase"])
    if phase is None:  # first seen after D, but created before: assume it was as first seen
        phase = history.first_seen_phase[deal_id]
    outcome = history.outcome_before.get(deal_id, row["outcome"])
    recognised = row["revenue_recognised_on"]
    if outcome == Outcome.LOST or (
        outcome == Outcome.WON and recognised is not None and recognised <= day
    ):
        return None
    facts = DealFacts.from_row(row)
    pushes = max(0, facts.closing_date_push_count - history.pushes_since[deal_id])
    # A slip recorded since D had not happened on D (an earlier one is not kept: none).
    slipped = facts.slipped_at is not None and facts.slipped_at < cutoff
    return replace(
        facts,
        phase=phase,
        outcome=outcome,
        closing_date=history.closing_date_before.get(deal_id, facts.closing_date),
        amount_sgd=(
            facts.amount_sgd - history.amount_sgd_since.get(deal_id, Decimal(0))
            if facts.amount_sgd is not None
            else None
        ),
        closing_date_push_count=pushes,
        slipped_from=facts.slipped_from if slipped else None,
        slipped_at=facts.slipped_at if slipped else None,
        zoho_modified_time=None,
    )


def pipeline_snapshot_reconstruct(*, day: date) -> list[PipelineSnapshot]:
    """Rebuild and store a past day's totals from the change history (see the module notes)."""
    if day >= timezone.localdate():
        raise ValueError(f"{day} is not in the past: take today's snapshot live instead")
    history = _history_since(day)
    thresholds = HealthThresholds.objects.in_force()
    totals = PipelineTotals()
    rows = Opportunity.objects.order_by("pk").values(
        *DEAL_FACTS, "zoho_created_time", "created_at", "is_deleted", "deleted_at"
    )
    for row in rows.iterator(chunk_size=settings.HEALTH_CHUNK_SIZE):
        facts = _as_of(row, day, history)
        if facts is None:
            continue
        health = health_evaluate(facts, today=day, thresholds=thresholds)
        totals.add(
            phase=facts.phase,
            health=health.status,
            amount_sgd=facts.amount_sgd,
            probability=facts.probability,
        )
    return _store(day, totals, SnapshotSource.RECONSTRUCTED)


def pipeline_snapshot_backfill(
    *, start: date, end: date, replace_live: bool = False
) -> list[tuple[date, str]]:
    """Snapshot every day from `start` to `end`; return (day, what was done) for each.

    Today is taken live; past days are reconstructed, except days that already have a live
    snapshot (more faithful than any reconstruction), which are kept unless `replace_live`.
    """
    today = timezone.localdate()
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    if end > today:
        raise ValueError(f"{end} is in the future: there is nothing to snapshot yet")
    live_days = set(
        PipelineSnapshot.objects.filter(
            day__gte=start, day__lte=end, source=SnapshotSource.LIVE
        ).values_list("day", flat=True)
    )
    done = []
    day = start
    while day <= end:
        if day == today:
            pipeline_snapshot_take()
            done.append((day, "taken live"))
        elif day in live_days and not replace_live:
            done.append((day, "kept (taken live on the day)"))
        else:
            pipeline_snapshot_reconstruct(day=day)
            done.append((day, "reconstructed"))
        day += timedelta(days=1)
    return done
