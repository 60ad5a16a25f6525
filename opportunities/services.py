"""Writes about deals: logins, the post-sync step, health, thresholds and stage mappings."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Lower, Trim
from django.utils import timezone

from opportunities.bulk import rows_update
from opportunities.changes import CrmChange
from opportunities.health import DEAL_FACTS, DealFacts, health_evaluate
from opportunities.lifecycle import StageRules
from opportunities.models import (
    ChangeEvent,
    ChangeKind,
    HealthStatus,
    HealthThresholds,
    Opportunity,
    Outcome,
    PhaseTransition,
    StageMapping,
    TransitionCause,
)
from opportunities.roles import Role

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

logger = logging.getLogger(__name__)
User = get_user_model()
CENT = Decimal("0.01")


@transaction.atomic
def login_upsert(
    *, username: str, email: str, password: str, role: Role, full_name: str = ""
) -> object:
    """Create or update a login with exactly one role; admins also get the Django admin."""
    first_name, _, last_name = full_name.partition(" ")
    user, _ = User.objects.update_or_create(
        username=username,
        defaults={
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "is_staff": role is Role.ADMIN,
            "is_active": True,
        },
    )
    user.set_password(password)
    user.save(update_fields=["password"])
    user.groups.set([Group.objects.get(name=role.value)])
    return user


def _author(user: AbstractBaseUser | AnonymousUser | None) -> Any:
    """The login to record as author of a change; None for the system or an anonymous user."""
    return user if user is not None and user.is_authenticated else None


# --- Health --------------------------------------------------------------------------------------


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


def _chunks(ids: Collection[int], size: int) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


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
        for ids in _chunks(opportunity_ids, size):
            rescore(ids, skip_locked=False)
        return result

    tracked = Opportunity.objects.health_tracked().order_by("pk").values_list("pk", flat=True)
    last_id = 0
    while True:
        ids = list(tracked.filter(pk__gt=last_id)[:size])
        if ids:
            rescore(ids, skip_locked=True)
            last_id = ids[-1]
        if len(ids) < size:
            if result.skipped:
                logger.info("Health recompute skipped %d deals being synced", result.skipped)
            return result


@transaction.atomic
def health_thresholds_save(
    *, thresholds: HealthThresholds, user: AbstractBaseUser | AnonymousUser | None
) -> HealthRecomputeResult:
    """Put new thresholds in force (as a new row: the old ones stay as history) and rescore."""
    thresholds.pk = None
    thresholds.created_at = timezone.now()
    thresholds.created_by = _author(user)
    thresholds.full_clean()
    thresholds.save(force_insert=True)
    return health_recompute()


# --- After a sync page ---------------------------------------------------------------------------


def _amount(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _phase_change(
    opportunity_id: int, old: int | None, new: int, at: datetime, cause: str
) -> tuple[PhaseTransition, ChangeEvent | None]:
    transition = PhaseTransition(
        opportunity_id=opportunity_id, from_phase=old, to_phase=new, occurred_at=at, cause=cause
    )
    if old is None:
        return transition, None
    event = ChangeEvent(
        opportunity_id=opportunity_id,
        kind=ChangeKind.PHASE_FORWARD if new > old else ChangeKind.PHASE_BACKWARD,
        old_value=str(old),
        new_value=str(new),
        delta=Decimal(new - old),
        cause=cause,
        occurred_at=at,
    )
    return transition, event


def _outcome_change(
    opportunity_id: int, old: str, new: str, at: datetime, cause: str
) -> ChangeEvent:
    kind = {Outcome.WON: ChangeKind.WON, Outcome.LOST: ChangeKind.LOST}.get(
        Outcome(new), ChangeKind.REOPENED
    )
    return ChangeEvent(
        opportunity_id=opportunity_id,
        kind=kind,
        old_value=old,
        new_value=new,
        cause=cause,
        occurred_at=at,
    )


def opportunities_after_sync(
    *, changes: Sequence[CrmChange], synced_at: datetime | None = None
) -> None:
    """Record what a sync page changed, then rescore those deals.

    The rows already hold the new Zoho values, phase and outcome; each change carries the old
    ones. Writes phase transitions (and `phase_entered_at`), change events, the closing-date
    push and pull-in counters, and health, in a fixed number of queries per page, all in one
    transaction (the caller's, when the sync commits the page with it).
    """
    if changes:
        with transaction.atomic():
            _record_sync_changes(changes, synced_at or timezone.now())


def _record_sync_changes(changes: Sequence[CrmChange], at: datetime) -> None:
    by_id = {change.opportunity_id: change for change in changes}
    rows = Opportunity.objects.filter(pk__in=by_id).values(
        "id",
        "stage",
        "probability",
        "phase",
        "outcome",
        "closing_date",
        "amount_sgd",
        "zoho_created_time",
    )
    rules = StageRules.load()
    transitions: list[PhaseTransition] = []
    events: list[ChangeEvent] = []
    pushed: list[int] = []
    pulled_in: list[int] = []
    phase_moved: list[int] = []

    for row in rows:
        deal_id, change = row["id"], by_id[row["id"]]
        if change.created:
            transition, _ = _phase_change(deal_id, None, row["phase"], at, TransitionCause.SYNC)
            transitions.append(transition)
            phase_moved.append(deal_id)
            created = row["zoho_created_time"]
            amount = row["amount_sgd"]
            events.append(
                ChangeEvent(
                    opportunity_id=deal_id,
                    kind=ChangeKind.NEW,
                    new_value=_amount(amount) if amount is not None else "",
                    delta=amount,
                    # When it was created in Zoho, so "new since" is true even after a first import.
                    occurred_at=min(created, at) if created else at,
                )
            )
            continue

        if change.previous_phase is not None and change.previous_phase != row["phase"]:
            # Did the stage move the deal, or a milestone date raise it past its stage?
            by_stage = rules.place(
                stage=row["stage"],
                probability=row["probability"],
                proposal_submitted_on=None,
                po_received_on=None,
                current_phase=change.previous_phase,
            )
            raised = by_stage.phase < row["phase"]
            cause = TransitionCause.MILESTONE if raised else TransitionCause.SYNC
            transition, event = _phase_change(
                deal_id, change.previous_phase, row["phase"], at, cause
            )
            transitions.append(transition)
            if event:
                events.append(event)
            phase_moved.append(deal_id)

        if change.previous_outcome is not None and change.previous_outcome != row["outcome"]:
            events.append(
                _outcome_change(
                    deal_id, change.previous_outcome, row["outcome"], at, TransitionCause.SYNC
                )
            )

        old_date, new_date = change.previous_closing_date, row["closing_date"]
        if old_date is not None and new_date is not None and old_date != new_date:
            later = new_date > old_date
            (pushed if later else pulled_in).append(deal_id)
            kind = ChangeKind.CLOSING_DATE_PUSHED if later else ChangeKind.CLOSING_DATE_PULLED_IN
            events.append(
                ChangeEvent(
                    opportunity_id=deal_id,
                    kind=kind,
                    old_value=old_date.isoformat(),
                    new_value=new_date.isoformat(),
                    delta=Decimal((new_date - old_date).days),
                    occurred_at=at,
                )
            )

        old_sgd, new_sgd = change.previous_amount_sgd, row["amount_sgd"]
        if old_sgd is not None and new_sgd is not None and old_sgd != new_sgd:
            events.append(
                ChangeEvent(
                    opportunity_id=deal_id,
                    kind=ChangeKind.AMOUNT_UP if new_sgd > old_sgd else ChangeKind.AMOUNT_DOWN,
                    old_value=_amount(old_sgd),
                    new_value=_amount(new_sgd),
                    delta=(new_sgd - old_sgd).quantize(CENT),
                    occurred_at=at,
                )
            )

    PhaseTransition.objects.bulk_create(transitions)
    ChangeEvent.objects.bulk_create(events)
    deals = Opportunity.objects.all()
    if pushed:
        deals.filter(pk__in=pushed).update(closing_date_push_count=F("closing_date_push_count") + 1)
    if pulled_in:
        deals.filter(pk__in=pulled_in).update(
            closing_date_pull_in_count=F("closing_date_pull_in_count") + 1
        )
    if phase_moved:
        deals.filter(pk__in=phase_moved).update(phase_entered_at=at)
    health_recompute(opportunity_ids=list(by_id))


# --- Stage mappings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RederiveResult:
    checked: int
    moved: int


@transaction.atomic
def opportunities_rederive(
    *,
    stages: Collection[str] | None = None,
    cause: str = TransitionCause.STAGE_MAPPING,
    at: datetime | None = None,
) -> RederiveResult:
    """Place live deals again from the current stage mapping (those in `stages`, or all).

    Deals whose phase or outcome changes get a transition and change events with `cause`,
    and their health is recomputed; the others are left untouched.
    """
    at = at or timezone.now()
    rules = StageRules.load()
    deals = Opportunity.objects.live()
    if stages is not None:
        keys = {stage.strip().lower() for stage in stages}
        deals = deals.annotate(stage_key=Lower(Trim("stage"))).filter(stage_key__in=keys)
    query = deals.order_by("pk").values(
        "id",
        "stage",
        "probability",
        "proposal_submitted_on",
        "po_received_on",
        "phase",
        "outcome",
        "phase_entered_at",
    )
    checked, moved = 0, []
    last_id, size = 0, settings.HEALTH_CHUNK_SIZE
    while True:
        rows = list(query.filter(pk__gt=last_id)[:size])
        checked += len(rows)
        updates, transitions, events = [], [], []
        for row in rows:
            placement = rules.place(
                stage=row["stage"],
                probability=row["probability"],
                proposal_submitted_on=row["proposal_submitted_on"],
                po_received_on=row["po_received_on"],
                current_phase=row["phase"],
            )
            if (placement.phase, placement.outcome) == (row["phase"], row["outcome"]):
                continue
            entered = row["phase_entered_at"]
            if placement.phase != row["phase"]:
                transition, event = _phase_change(
                    row["id"], row["phase"], placement.phase, at, cause
                )
                transitions.append(transition)
                if event:
                    events.append(event)
                entered = at
            if placement.outcome != row["outcome"]:
                events.append(
                    _outcome_change(row["id"], row["outcome"], placement.outcome, at, cause)
                )
            updates.append((row["id"], placement.phase, placement.outcome, entered))
        rows_update(Opportunity, fields=("phase", "outcome", "phase_entered_at"), rows=updates)
        PhaseTransition.objects.bulk_create(transitions)
        ChangeEvent.objects.bulk_create(events)
        moved += [update[0] for update in updates]
        if len(rows) < size:
            break
        last_id = rows[-1]["id"]
    if moved:
        health_recompute(opportunity_ids=moved)
    return RederiveResult(checked=checked, moved=len(moved))


@transaction.atomic
def stage_mapping_save(
    *,
    mapping: StageMapping,
    user: AbstractBaseUser | AnonymousUser | None,
    previous_stage: str | None = None,
) -> RederiveResult:
    """Save a stage mapping and re-place the deals it (or its old stage name) applies to."""
    if mapping.pk is None:
        mapping.created_by = _author(user)
    mapping.updated_by = _author(user)
    mapping.full_clean()
    mapping.save()
    stages = {mapping.stage} | ({previous_stage} if previous_stage else set())
    return opportunities_rederive(stages=stages)


@transaction.atomic
def stage_mapping_delete(*, mapping: StageMapping) -> RederiveResult:
    """Remove a stage mapping; its deals fall back on their probability and are listed unmapped."""
    stage = mapping.stage
    mapping.delete()
    return opportunities_rederive(stages={stage})
