"""Stage mappings: saving or removing one places the deals of its stage again."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower, Trim
from django.utils import timezone

from opportunities.derivation import CLOSED_OUTCOMES
from opportunities.models import (
    ChangeEvent,
    CrmStage,
    MoveKind,
    Opportunity,
    Phase,
    PhaseTransition,
    PipelineMove,
    StageMapping,
    TransitionCause,
)
from opportunities.records import CrmStageRecord
from opportunities.services.fx import closed_opportunities_relock, opportunities_reconvert
from opportunities.services.health import health_recompute
from opportunities.services.history import (
    PipelineState,
    outcome_change_event,
    phase_change_records,
    pipeline_move,
)
from opportunities.stage_rules import StageRules
from pipeline_pulse.models import acting_user
from pipeline_pulse.storage.bulk import keyset_pages, rows_update

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser


@dataclass(frozen=True)
class RederiveResult:
    checked: int
    moved: int


@transaction.atomic
def opportunities_rederive(
    *,
    stages: Collection[str] | None = None,
    condition: Q | None = None,
    cause: str = TransitionCause.STAGE_MAPPING,
    at: datetime | None = None,
) -> RederiveResult:
    """Place live deals again from the current rules (those in `stages` or matching
    `condition`, or all) on the Singapore day of `at`.

    Deals whose phase or outcome changes get a transition and change events with `cause`, a
    deal that closes or reopens gets its SGD amount locked or unlocked, and their health is
    recomputed; the others are left untouched.
    """
    at = at or timezone.now()
    rules, today = StageRules.load(), timezone.localdate(at)
    deals = Opportunity.objects.live()
    if stages is not None:
        keys = {stage.strip().lower() for stage in stages}
        deals = deals.annotate(stage_key=Lower(Trim("stage"))).filter(stage_key__in=keys)
    if condition is not None:
        deals = deals.filter(condition)
    query = deals.values(
        "id",
        "stage",
        "probability",
        "proposal_submitted_on",
        "po_received_on",
        "phase",
        "outcome",
        "amount_sgd",
        "closing_date",
        "phase_entered_at",
    )
    checked, moved, closed, reopened = 0, [], [], []
    for rows in keyset_pages(query, size=settings.HEALTH_CHUNK_SIZE):
        checked += len(rows)
        page = _Replacement(rules=rules, today=today, at=at, cause=cause)
        for row in rows:
            page.place(row)
        page.save()
        moved += page.moved
        closed += page.closed
        reopened += page.reopened
    # The rate a deal's SGD amount uses follows its outcome (closed deals are locked).
    closed_opportunities_relock(opportunity_ids=closed, at=at)
    opportunities_reconvert(opportunity_ids=reopened, at=at)
    if moved:
        health_recompute(opportunity_ids=moved)
    return RederiveResult(checked=checked, moved=len(moved))


@transaction.atomic
def opportunities_place_arrived_milestones(*, at: datetime | None = None) -> RederiveResult:
    """Raise the phase of deals whose proposal or PO date has come (run nightly).

    A milestone counts from its date on, so a PO dated for today moves its deal to Revenue
    today: recorded as a transition caused by the milestone.
    """
    today = timezone.localdate(at or timezone.now())
    due = Q(proposal_submitted_on__lte=today, phase__lt=Phase.PROPOSAL) | Q(
        po_received_on__lte=today, phase__lt=Phase.REVENUE
    )
    return opportunities_rederive(condition=due, cause=TransitionCause.MILESTONE, at=at)


@dataclass
class _Replacement:
    """One page of deals placed again: the rows to write and the history to record."""

    rules: StageRules
    today: date
    at: datetime
    cause: str
    updates: list[tuple[int, int, str, datetime]] = field(default_factory=list)
    transitions: list[PhaseTransition] = field(default_factory=list)
    events: list[ChangeEvent] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    moves: list[PipelineMove] = field(default_factory=list)

    @property
    def moved(self) -> list[int]:
        return [update[0] for update in self.updates]

    def place(self, row: dict[str, Any]) -> None:
        placement = self.rules.place(
            stage=row["stage"],
            probability=row["probability"],
            proposal_submitted_on=row["proposal_submitted_on"],
            po_received_on=row["po_received_on"],
            today=self.today,
            current_phase=row["phase"],
        )
        if (placement.phase, placement.outcome) == (row["phase"], row["outcome"]):
            return
        deal_id, entered = row["id"], row["phase_entered_at"]
        if placement.phase != row["phase"]:
            transition, event = phase_change_records(
                deal_id, row["phase"], placement.phase, self.at, self.cause, row["amount_sgd"]
            )
            self.transitions.append(transition)
            self.events.extend([event] if event else [])
            entered = self.at
        if placement.outcome != row["outcome"]:
            self.events.append(
                outcome_change_event(
                    deal_id,
                    row["outcome"],
                    placement.outcome,
                    self.at,
                    self.cause,
                    row["amount_sgd"],
                )
            )
            (self.closed if placement.outcome in CLOSED_OUTCOMES else self.reopened).append(deal_id)
            move = pipeline_move(
                deal_id,
                at=self.at,
                kind=MoveKind.CHANGE,
                before=PipelineState(row["outcome"], row["closing_date"], row["amount_sgd"]),
                after=PipelineState(placement.outcome, row["closing_date"], row["amount_sgd"]),
            )
            self.moves.extend([move] if move else [])
        self.updates.append((deal_id, placement.phase, placement.outcome, entered))

    def save(self) -> None:
        fields = ("phase", "outcome", "phase_entered_at")
        rows_update(Opportunity, fields=fields, rows=self.updates)
        PhaseTransition.objects.bulk_create(self.transitions)
        ChangeEvent.objects.bulk_create(self.events)
        PipelineMove.objects.bulk_create(self.moves)


@transaction.atomic
def stage_mapping_save(
    *,
    mapping: StageMapping,
    user: AbstractBaseUser | AnonymousUser | None,
    previous_stage: str | None = None,
) -> RederiveResult:
    """Save a stage mapping and re-place the deals it (or its old stage name) applies to."""
    if mapping.pk is None:
        mapping.created_by = acting_user(user)
    mapping.updated_by = acting_user(user)
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


@transaction.atomic
def crm_stages_save(*, stages: Sequence[CrmStageRecord]) -> RederiveResult:
    """Keep the CRM's stage list as the CRM describes it now, and re-place the deals of the
    stages whose forecast type changed (it decides the outcome of stages no admin mapped).

    An empty list changes nothing: it means the metadata could not be read, not that the
    pipeline has no stages. A pipeline has a few dozen stages at most: rows are written one
    by one, and only when they change.
    """
    if not stages:
        return RederiveResult(checked=0, moved=0)
    wanted = {stage.name.strip().lower(): stage for stage in stages}
    stored = {row.name.strip().lower(): row for row in CrmStage.objects.all()}
    changed: set[str] = set()
    for key, gone in stored.items():
        if key not in wanted:
            gone.delete()
            changed.add(key)
    for key, stage in wanted.items():
        existing = stored.get(key)
        if existing is None:
            CrmStage.objects.create(
                name=stage.name,
                forecast_type=stage.forecast_type,
                probability=stage.probability,
                forecast_category=stage.forecast_category,
                sequence_number=stage.sequence_number,
            )
            changed.add(key)
            continue
        if existing.forecast_type != stage.forecast_type:
            changed.add(key)
        now = (
            stage.name,
            stage.forecast_type,
            stage.probability,
            stage.forecast_category,
            stage.sequence_number,
        )
        stored_now = (
            existing.name,
            existing.forecast_type,
            existing.probability,
            existing.forecast_category,
            existing.sequence_number,
        )
        if stored_now != now:
            (
                existing.name,
                existing.forecast_type,
                existing.probability,
                existing.forecast_category,
                existing.sequence_number,
            ) = now
            existing.save()
    if not changed:
        return RederiveResult(checked=0, moved=0)
    return opportunities_rederive(stages=changed, cause=TransitionCause.SYNC)
