"""A deal's history as it happens: phase transitions, change events and the closing-date
counters, written from what changed, then the changed deals rescored.

Every writer of deal values (the CRM page service, local edits, stage-mapping changes) hands
over what a deal was before (DealChange); this module decides what that change means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from opportunities.data_version import deals_changed
from opportunities.models import (
    ChangeEvent,
    ChangeKind,
    DealStatus,
    MoveKind,
    Opportunity,
    Outcome,
    PhaseTransition,
    PipelineMove,
    TransitionCause,
)
from opportunities.services.health import health_recompute
from opportunities.stage_rules import StageRules
from pipeline_pulse.dates import quarter_index
from pipeline_pulse.storage.bulk import rows_update

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class DealChange:
    """A deal created, or whose values changed, with the values it had before.

    `previous_*` are None for a new deal. The row already holds the new values, phase and
    outcome when the change is recorded; `health_stored` when the writer also stored its
    health, which nothing recorded here can change (a new deal's), so it is not rescored.
    """

    opportunity_id: int
    created: bool
    health_stored: bool = False
    previous_closing_date: date | None = None
    previous_amount: Decimal | None = None
    previous_currency: str | None = None
    previous_amount_sgd: Decimal | None = None
    previous_phase: int | None = None
    previous_outcome: str | None = None
    previous_is_deleted: bool = False
    previous_stage: str | None = None

    @classmethod
    def before(cls, opportunity_id: int, state: Mapping[str, Any]) -> DealChange:
        """A change to an existing deal, from what it was: `state` holds DEAL_STATE's values."""
        return cls(
            opportunity_id=opportunity_id,
            created=False,
            **{f"previous_{name}": state[name] for name in DEAL_STATE},
        )


# A deal's values before a change that its history compares with the new ones.
DEAL_STATE = (
    "closing_date",
    "amount",
    "currency",
    "amount_sgd",
    "phase",
    "outcome",
    "is_deleted",
    "stage",
)


@dataclass(frozen=True, slots=True)
class PipelineState:
    """What the pipeline ledger follows of a deal: status (outcome or deleted), closing date
    and SGD amount."""

    status: str
    closing_date: date | None
    amount_sgd: Decimal | None

    @classmethod
    def of(
        cls, *, outcome: str, is_deleted: bool, closing_date: date | None, amount_sgd: Any
    ) -> PipelineState:
        status = DealStatus.DELETED if is_deleted else str(outcome)
        return cls(str(status), closing_date, amount_sgd)


def pipeline_move(
    opportunity_id: int,
    *,
    at: datetime,
    kind: str,
    before: PipelineState | None,
    after: PipelineState,
) -> PipelineMove | None:
    """The ledger row of a deal's state change (unsaved); None when nothing it follows moved."""
    if before == after:
        return None
    return PipelineMove(
        opportunity_id=opportunity_id,
        occurred_at=at,
        kind=kind,
        status_before=before.status if before else "",
        status_after=after.status,
        closing_before=before.closing_date if before else None,
        closing_after=after.closing_date,
        sgd_before=before.amount_sgd if before else None,
        sgd_after=after.amount_sgd,
    )


def history_started_at() -> datetime | None:
    """When the pipeline ledger's history starts: its first move (the first sync's)."""
    return (
        PipelineMove.objects.order_by("occurred_at").values_list("occurred_at", flat=True).first()
    )


def phase_change_records(
    opportunity_id: int,
    old: int | None,
    new: int,
    at: datetime,
    cause: str,
    sgd_value: Decimal | None,
) -> tuple[PhaseTransition, ChangeEvent | None]:
    """The transition of a phase change, and its change event unless the deal is new (unsaved)."""
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
        sgd_value=sgd_value,
        cause=cause,
        occurred_at=at,
    )
    return transition, event


def outcome_change_event(
    opportunity_id: int,
    old: str,
    new: str,
    at: datetime,
    cause: str,
    sgd_value: Decimal | None,
) -> ChangeEvent:
    """The won / lost / reopened event of an outcome change (unsaved)."""
    kind = {Outcome.WON: ChangeKind.WON, Outcome.LOST: ChangeKind.LOST}.get(
        Outcome(new), ChangeKind.REOPENED
    )
    return ChangeEvent(
        opportunity_id=opportunity_id,
        kind=kind,
        old_value=old,
        new_value=new,
        sgd_value=sgd_value,
        cause=cause,
        occurred_at=at,
    )


def _state(row: Mapping[str, Any]) -> PipelineState:
    return PipelineState.of(
        outcome=row["outcome"],
        is_deleted=row["is_deleted"],
        closing_date=row["closing_date"],
        amount_sgd=row["amount_sgd"],
    )


def _amount(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _money(currency: str, amount: Decimal | None) -> str:
    """ "USD 1500.00": an amount in its own currency, as events show it."""
    return currency if amount is None else f"{currency} {_amount(amount)}"


def deal_changes_record(
    *,
    changes: Sequence[DealChange],
    at: datetime | None = None,
    cause: str = TransitionCause.SYNC,
    rules: StageRules | None = None,
) -> None:
    """Record what changed about these deals, then rescore them.

    Writes phase transitions (and `phase_entered_at`), when the stage last changed, change
    events, the closing-date push and pull-in counters and the latest slip into a later
    quarter, and health, in a fixed number of queries however many deals, all in
    one transaction (the caller's, when it writes the deals in one).
    """
    if changes:
        with transaction.atomic(savepoint=False):
            _record(changes, at or timezone.now(), cause, rules or StageRules.load())


def _record(changes: Sequence[DealChange], at: datetime, cause: str, rules: StageRules) -> None:
    created = [change.opportunity_id for change in changes if change.created]
    if created:
        _created_history(created, at, cause)
    changed = {change.opportunity_id: change for change in changes if not change.created}
    history = _History(at=at, cause=cause, rules=rules)
    if changed:
        for row in Opportunity.objects.filter(pk__in=changed).values(
            "id",
            "stage",
            "probability",
            "phase",
            "outcome",
            "closing_date",
            "amount",
            "currency",
            "amount_sgd",
            "fx_rate",
            "is_deleted",
        ):
            history.deal_changed(row, changed[row["id"]])
    history.save()
    rescore = [change.opportunity_id for change in changes if not change.health_stored]
    if rescore:
        health_recompute(opportunity_ids=rescore)  # which moves the data version too
    else:
        deals_changed()


def _created_history(ids: list[int], at: datetime, cause: str) -> None:
    """The history of deals just created, written from their stored rows in three statements:
    the transition into their phase, the "new" change event and the first pipeline move.

    The writer inserted them with `phase_entered_at` already set: no second write.
    """
    values: dict[str, Any] = {
        "ids": ids,
        "at": at,
        "cause": str(cause),
        # The first move is BASELINE for a deal already in Zoho before the ledger's history
        # started (the first sync's deals), NEW for one created since.
        "start": history_started_at(),
        "baseline": MoveKind.BASELINE.value,
        "new_move": MoveKind.NEW.value,
        "new_event": ChangeKind.NEW.value,
        "deleted": DealStatus.DELETED.value,
    }
    deals = Opportunity._meta.db_table
    # Table names from the models' metadata; every value is a bound parameter.
    statements = (
        f"""INSERT INTO {PhaseTransition._meta.db_table}
            (opportunity_id, from_phase, to_phase, occurred_at, cause)
        SELECT id, NULL, phase, %(at)s, %(cause)s
        FROM {deals} WHERE id = ANY(%(ids)s)""",  # noqa: S608  # nosec B608
        # Dated when the deal was created in Zoho, so "new since" holds after a first import;
        # the SGD amount as text is the exact decimal with its two places.
        f"""INSERT INTO {ChangeEvent._meta.db_table}
            (opportunity_id, kind, old_value, new_value, delta, sgd_value, cause, occurred_at)
        SELECT id, %(new_event)s, '', COALESCE(amount_sgd::text, ''), amount_sgd, amount_sgd,
            %(cause)s, LEAST(zoho_created_time, %(at)s)
        FROM {deals} WHERE id = ANY(%(ids)s)""",  # noqa: S608  # nosec B608
        f"""INSERT INTO {PipelineMove._meta.db_table}
            (opportunity_id, occurred_at, kind, status_before, status_after, closing_before,
            closing_after, sgd_before, sgd_after)
        SELECT id, %(at)s,
            CASE WHEN %(start)s::timestamptz IS NULL OR zoho_created_time < %(start)s
                THEN %(baseline)s ELSE %(new_move)s END,
            '', CASE WHEN is_deleted THEN %(deleted)s ELSE outcome END, NULL,
            closing_date, NULL, amount_sgd
        FROM {deals} WHERE id = ANY(%(ids)s)""",  # noqa: S608  # nosec B608
    )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, values)


@dataclass
class _History:
    """What a batch of changes adds to the deals' history, written in a few statements."""

    at: datetime
    cause: str
    rules: StageRules
    transitions: list[PhaseTransition] = field(default_factory=list)
    events: list[ChangeEvent] = field(default_factory=list)
    pushed: list[int] = field(default_factory=list)
    pulled_in: list[int] = field(default_factory=list)
    phase_moved: list[int] = field(default_factory=list)
    moves: list[PipelineMove] = field(default_factory=list)
    stage_moved: list[int] = field(default_factory=list)
    # Deal id → the closing date it had before moving into a later quarter.
    slipped: dict[int, date] = field(default_factory=dict)

    def deal_changed(self, row: Mapping[str, Any], change: DealChange) -> None:
        self._phase(row, change)
        if change.previous_outcome is not None and change.previous_outcome != row["outcome"]:
            self.events.append(
                outcome_change_event(
                    row["id"],
                    change.previous_outcome,
                    row["outcome"],
                    self.at,
                    self.cause,
                    row["amount_sgd"],
                )
            )
        self._closing_date(row, change.previous_closing_date)
        self._amount(row, change)
        before = PipelineState.of(
            outcome=change.previous_outcome or row["outcome"],
            is_deleted=change.previous_is_deleted,
            closing_date=change.previous_closing_date,
            amount_sgd=change.previous_amount_sgd,
        )
        move = pipeline_move(
            row["id"], at=self.at, kind=MoveKind.CHANGE, before=before, after=_state(row)
        )
        self.moves.extend([move] if move else [])
        if change.previous_stage is not None and change.previous_stage != row["stage"]:
            self.stage_moved.append(row["id"])

    def _phase(self, row: Mapping[str, Any], change: DealChange) -> None:
        if change.previous_phase is None or change.previous_phase == row["phase"]:
            return
        # Did the stage move the deal, or a milestone date raise it past its stage?
        by_stage = self.rules.place(
            stage=row["stage"],
            probability=row["probability"],
            proposal_submitted_on=None,
            po_received_on=None,
            today=timezone.localdate(self.at),
            current_phase=change.previous_phase,
        )
        cause = TransitionCause.MILESTONE if by_stage.phase < row["phase"] else self.cause
        transition, event = phase_change_records(
            row["id"], change.previous_phase, row["phase"], self.at, cause, row["amount_sgd"]
        )
        self.transitions.append(transition)
        if event:
            self.events.append(event)
        self.phase_moved.append(row["id"])

    def _closing_date(self, row: Mapping[str, Any], old: date | None) -> None:
        new = row["closing_date"]
        if old is None or new is None or old == new:
            return
        later = new > old
        (self.pushed if later else self.pulled_in).append(row["id"])
        if quarter_index(new) > quarter_index(old):
            self.slipped[row["id"]] = old
        self._event(
            row["id"],
            ChangeKind.CLOSING_DATE_PUSHED if later else ChangeKind.CLOSING_DATE_PULLED_IN,
            old.isoformat(),
            new.isoformat(),
            Decimal((new - old).days),
            row["amount_sgd"],
        )

    def _amount(self, row: Mapping[str, Any], change: DealChange) -> None:
        """The deal's own amount, compared in its own currency: a rate moving, or a won deal
        locked to its closing-date rate, changes the SGD figure but is no change of the deal."""
        old, new = change.previous_amount, row["amount"]
        old_code, code = change.previous_currency, row["currency"]
        if old_code is not None and old_code != code:
            old_sgd, new_sgd = change.previous_amount_sgd, row["amount_sgd"]
            self._event(
                row["id"],
                ChangeKind.CURRENCY_CHANGED,
                _money(old_code, old),
                _money(code, new),
                None,
                (new_sgd - old_sgd) if old_sgd is not None and new_sgd is not None else None,
            )
            return
        if old is None or new is None or old == new:
            return
        rate = row["fx_rate"]
        self._event(
            row["id"],
            ChangeKind.AMOUNT_UP if new > old else ChangeKind.AMOUNT_DOWN,
            _money(code, old),
            _money(code, new),
            (new - old).quantize(CENT),
            # What the change is worth at the deal's rate now, for SGD totals.
            ((new - old) * rate).quantize(CENT, ROUND_HALF_UP) if rate is not None else None,
        )

    def _event(
        self,
        deal_id: int,
        kind: str,
        old_value: str,
        new_value: str,
        delta: Decimal | None,
        sgd_value: Decimal | None,
    ) -> None:
        self.events.append(
            ChangeEvent(
                opportunity_id=deal_id,
                kind=kind,
                old_value=old_value,
                new_value=new_value,
                delta=delta,
                sgd_value=sgd_value,
                cause=self.cause,
                occurred_at=self.at,
            )
        )

    def save(self) -> None:
        PhaseTransition.objects.bulk_create(self.transitions)
        ChangeEvent.objects.bulk_create(self.events)
        PipelineMove.objects.bulk_create(self.moves)
        deals = Opportunity.objects.all()
        if self.pushed:
            deals.filter(pk__in=self.pushed).update(
                closing_date_push_count=F("closing_date_push_count") + 1
            )
        if self.pulled_in:
            deals.filter(pk__in=self.pulled_in).update(
                closing_date_pull_in_count=F("closing_date_pull_in_count") + 1
            )
        if self.phase_moved:
            deals.filter(pk__in=self.phase_moved).update(phase_entered_at=self.at)
        if self.stage_moved:
            deals.filter(pk__in=self.stage_moved).update(stage_entered_at=self.at)
        if self.slipped:
            rows_update(
                Opportunity,
                fields=("slipped_from", "slipped_at"),
                rows=[(pk, old, self.at) for pk, old in self.slipped.items()],
            )
