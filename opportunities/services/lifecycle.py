"""Stage mappings: saving or removing one places the deals of its stage again."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Lower, Trim
from django.utils import timezone

from opportunities.models import (
    ChangeEvent,
    Opportunity,
    PhaseTransition,
    StageMapping,
    TransitionCause,
)
from opportunities.services.health import health_recompute
from opportunities.services.history import outcome_change_event, phase_change_records
from opportunities.stage_rules import StageRules
from pipeline_pulse.bulk import keyset_pages, rows_update
from pipeline_pulse.models import acting_user

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
    query = deals.values(
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
    for rows in keyset_pages(query, size=settings.HEALTH_CHUNK_SIZE):
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
                transition, event = phase_change_records(
                    row["id"], row["phase"], placement.phase, at, cause
                )
                transitions.append(transition)
                if event:
                    events.append(event)
                entered = at
            if placement.outcome != row["outcome"]:
                events.append(
                    outcome_change_event(row["id"], row["outcome"], placement.outcome, at, cause)
                )
            updates.append((row["id"], placement.phase, placement.outcome, entered))
        rows_update(Opportunity, fields=("phase", "outcome", "phase_entered_at"), rows=updates)
        PhaseTransition.objects.bulk_create(transitions)
        ChangeEvent.objects.bulk_create(events)
        moved += [update[0] for update in updates]
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
