"""The waterfall: how a quarter's open pipeline moved between two days, from the ledger."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Max
from django.utils import timezone

from opportunities.models import (
    DealStatus,
    MoveKind,
    OpportunityQuerySet,
    PipelineMove,
)
from opportunities.pipeline_review.forecast import (
    ZERO,
)
from opportunities.pipeline_review.quarters import within_quarter
from pipeline_pulse.dates import (
    start_of_day,
)

STEPS = (
    "new",
    "increased",
    "decreased",
    "pulled_in",
    "pushed_out",
    "won",
    "lost",
    "deleted",
    "fx",
)
STEP_LABELS = {
    "new": "New deals",
    "increased": "Amounts increased",
    "decreased": "Amounts decreased",
    "pulled_in": "Moved into the quarter",
    "pushed_out": "Moved out of the quarter",
    "won": "Won",
    "lost": "Lost",
    "deleted": "Deleted",
    "fx": "Exchange rates",
    "unexplained": "History cannot say",
}
# How long the first sync may take: deals first read within it are the history's start.
FIRST_SYNC_WINDOW = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class LedgerState:
    status: str
    closing_date: date | None
    amount_sgd: Decimal | None

    def value_in(self, quarter: tuple[date, date]) -> Decimal:
        """What the deal adds to the quarter's open pipeline in this state."""
        if (
            self.status == DealStatus.OPEN
            and self.amount_sgd is not None
            and self.closing_date is not None
            and quarter[0] <= self.closing_date <= quarter[1]
        ):
            return self.amount_sgd
        return ZERO


@dataclass(slots=True)
class Waterfall:
    """The quarter's open pipeline at the start of `start` and the end of `end`, and every
    step between; `steps[name]` totals, `deals[name]` deal id → amount of that step."""

    quarter: tuple[date, date]
    start: date
    end: date
    start_open_sgd: Decimal = ZERO
    end_open_sgd: Decimal = ZERO
    steps: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(STEPS, ZERO))
    deals: dict[str, dict[int, Decimal]] = field(default_factory=lambda: defaultdict(dict))
    # Differences the ledger cannot explain (a change not recorded, a deal first seen late):
    # shown and listed as such, never spread over the steps.
    unexplained_sgd: Decimal = ZERO
    history_start: datetime | None = None
    starts_at_first_sync: bool = False
    # The whole period is before the first sync: history has nothing to say about it.
    ends_before_history: bool = False

    @property
    def has_history(self) -> bool:
        return self.history_start is not None

    def add(self, step: str, deal_id: int, amount: Decimal) -> None:
        if not amount:
            return
        if step == "unexplained":
            self.unexplained_sgd += amount
        else:
            self.steps[step] += amount
        per_deal = self.deals[step]
        per_deal[deal_id] = per_deal.get(deal_id, ZERO) + amount

    @property
    def reconciles(self) -> bool:
        total = self.start_open_sgd + sum(self.steps.values(), ZERO) + self.unexplained_sgd
        return total == self.end_open_sgd


def waterfall(
    deals: OpportunityQuerySet,
    quarter: tuple[date, date],
    start: date,
    end: date,
    *,
    now: datetime | None = None,
) -> Waterfall:
    """How the quarter's open pipeline of these deals moved from the start of `start` to the
    end of `end`, from the pipeline ledger (a fixed number of queries).

    `deals` may include deleted ones (access.deals_visible_to(..., include_deleted=True)).
    A period starting before the ledger's history starts at the first sync, and says so. When
    the period reaches now, the end is checked against the deals as they are: a difference
    the ledger did not record is `unexplained`, listed per deal.
    """
    now = now or timezone.now()
    result = Waterfall(quarter=quarter, start=start, end=end)
    moves = PipelineMove.objects.filter(opportunity__in=deals.order_by().values("pk"))
    history_start = (
        PipelineMove.objects.order_by("occurred_at").values_list("occurred_at", flat=True).first()
    )
    result.history_start = history_start
    if history_start is None:
        return result
    begin = start_of_day(start)
    finish = start_of_day(end + timedelta(days=1))
    first_sync_end = PipelineMove.objects.filter(
        kind=MoveKind.BASELINE, occurred_at__lt=history_start + FIRST_SYNC_WINDOW
    ).aggregate(last=Max("occurred_at"))["last"]
    if first_sync_end is not None and begin <= first_sync_end:
        result.starts_at_first_sync = True
        # The state after the first sync: its moves are before the start.
        begin = first_sync_end + timedelta(microseconds=1)
    if finish <= begin:
        result.ends_before_history = True
        return result
    fields = ("opportunity_id", "status_after", "closing_after", "sgd_after")
    states: dict[int, LedgerState] = {
        row[0]: LedgerState(*row[1:])
        for row in moves.filter(occurred_at__lt=begin)
        .order_by("opportunity_id", "-occurred_at", "-id")
        .distinct("opportunity_id")
        .values_list(*fields)
    }
    result.start_open_sgd = sum((s.value_in(quarter) for s in states.values()), ZERO)
    period = (
        moves.filter(occurred_at__gte=begin, occurred_at__lt=finish)
        .order_by("opportunity_id", "occurred_at", "id")
        .values_list(
            "opportunity_id",
            "kind",
            "status_before",
            "closing_before",
            "sgd_before",
            "status_after",
            "closing_after",
            "sgd_after",
        )
    )
    for row in period.iterator(chunk_size=5000):
        deal_id, kind = row[0], row[1]
        before = LedgerState(row[2], row[3], row[4]) if row[2] else None
        after = LedgerState(row[5], row[6], row[7])
        previous = states.get(deal_id)
        if before != previous:
            # The ledger has a gap here: what moved in between, no record says.
            gap = _value(before, quarter) - _value(previous, quarter)
            result.add("unexplained", deal_id, gap)
        for step, amount in _steps(kind, before, after, quarter):
            result.add(step, deal_id, amount)
        states[deal_id] = after
    result.end_open_sgd = sum((s.value_in(quarter) for s in states.values()), ZERO)
    if finish > now:
        _check_against_deals(result, deals, states, quarter)
    return result


def _value(state: LedgerState | None, quarter: tuple[date, date]) -> Decimal:
    return state.value_in(quarter) if state else ZERO


def _steps(
    kind: str, before: LedgerState | None, after: LedgerState, quarter: tuple[date, date]
) -> list[tuple[str, Decimal]]:
    """The waterfall steps of one recorded move; their amounts add up to its difference."""
    was, now = _value(before, quarter), after.value_in(quarter)
    if was == now == ZERO:
        return []
    if before is None:
        # A deal new since history started, or one first seen after it (history cannot say
        # when it entered the quarter's pipeline).
        return [("new" if kind == MoveKind.NEW else "unexplained", now)]
    if was and now:
        delta = now - was
        if kind == MoveKind.FX:
            return [("fx", delta)]
        return [("increased" if delta > 0 else "decreased", delta)] if delta else []
    if was:  # left the quarter's open pipeline
        return [(_leaving_step(before, after, quarter), -was)]
    return [(_entering_step(before, after, quarter), now)]


def _leaving_step(before: LedgerState, after: LedgerState, quarter: tuple[date, date]) -> str:
    if after.status == DealStatus.DELETED:
        return "deleted"
    if after.status in (DealStatus.WON, DealStatus.LOST):
        return str(after.status)
    if not within_quarter(after.closing_date, quarter):
        return "pushed_out"
    return "fx"  # open, in the quarter, but no SGD value any more: its rate went


def _entering_step(before: LedgerState, after: LedgerState, quarter: tuple[date, date]) -> str:
    # A restored, reopened or re-dated deal: the reverse of the step it would have left by.
    if before.status == DealStatus.DELETED:
        return "deleted"
    if before.status in (DealStatus.WON, DealStatus.LOST):
        return str(before.status)
    if not within_quarter(before.closing_date, quarter):
        return "pulled_in"
    return "fx"  # it has an SGD value again: a rate came


def _check_against_deals(
    result: Waterfall,
    deals: OpportunityQuerySet,
    states: dict[int, LedgerState],
    quarter: tuple[date, date],
) -> None:
    """The end of a period reaching now is the deals as they are: any difference from the
    ledger is a change it did not record (a deal written around the services)."""
    live: dict[int, Decimal] = dict(
        deals.live()
        .open()
        .filter(closing_date__range=quarter, amount_sgd__isnull=False)
        .order_by()
        .values_list("pk", "amount_sgd")  # type: ignore[arg-type]  # not null: filtered
    )
    in_ledger = {
        deal_id: value
        for deal_id, state in states.items()
        if (value := state.value_in(quarter)) != ZERO
    }
    for deal_id in set(live) | set(in_ledger):
        difference = live.get(deal_id, ZERO) - in_ledger.get(deal_id, ZERO)
        if difference:
            result.add("unexplained", deal_id, difference)
            result.end_open_sgd += difference
