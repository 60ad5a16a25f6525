"""The post-sync step: what a sync page changed about its deals, recorded and rescored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from opportunities.changes import CrmChange
from opportunities.models import (
    ChangeEvent,
    ChangeKind,
    Opportunity,
    PhaseTransition,
    TransitionCause,
)
from opportunities.services.health import health_recompute
from opportunities.services.lifecycle import outcome_change_event, phase_change_records
from opportunities.stage_rules import StageRules

CENT = Decimal("0.01")


def _amount(value: Decimal) -> str:
    return str(value.quantize(CENT))


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
            # The sync inserted the deal with `phase_entered_at` already set: no second write.
            transition, _ = phase_change_records(
                deal_id, None, row["phase"], at, TransitionCause.SYNC
            )
            transitions.append(transition)
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
            transition, event = phase_change_records(
                deal_id, change.previous_phase, row["phase"], at, cause
            )
            transitions.append(transition)
            if event:
                events.append(event)
            phase_moved.append(deal_id)

        if change.previous_outcome is not None and change.previous_outcome != row["outcome"]:
            events.append(
                outcome_change_event(
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
