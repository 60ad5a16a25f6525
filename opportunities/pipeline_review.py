"""Pipeline review reads: a quarter's forecast by category, owner and territory, the waterfall
of a quarter's open pipeline over a period (from the pipeline ledger), and the FX what-if.

Each takes the deals a login may see (access.deals_visible_to, through the board's filters)
and answers in exact SGD: sums of two-decimal amounts, never rounded twice, so rows add up to
their totals and the waterfall's steps to its two ends, to the cent.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import forms
from django.db.models import Case, CharField, Count, F, Max, Sum, Value, When
from django.db.models.functions import Lower, Trim
from django.utils import timezone

from currency.codes import is_iso_code
from currency.conversion import SgdConverter
from opportunities.models import (
    NOT_CONVERTED,
    CrmStage,
    CrmUser,
    DealStatus,
    ForecastCategory,
    MoveKind,
    Opportunity,
    OpportunityQuerySet,
    Outcome,
    PipelineMove,
    StageMapping,
)
from pipeline_pulse.dates import (
    EARLIEST_BUSINESS_DATE,
    LATEST_BUSINESS_DATE,
    quarter_bounds,
    start_of_day,
    validate_business_date,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

# --- Forecast categories -----------------------------------------------------------------------

# Zoho's own open categories (any case); an org's custom ones an admin maps per stage.
ZOHO_OPEN_CATEGORIES = {
    "pipeline": ForecastCategory.PIPELINE,
    "best case": ForecastCategory.BEST_CASE,
    "committed": ForecastCategory.COMMIT,
    "commit": ForecastCategory.COMMIT,
}
COMMIT_FROM, BEST_CASE_FROM = 80, 50  # probability bands: >= 80 Commit, 50-79 Best case
CATEGORY_ORDER = tuple(ForecastCategory)
OPEN_CATEGORY_VALUES = (
    ForecastCategory.COMMIT.value,
    ForecastCategory.BEST_CASE.value,
    ForecastCategory.PIPELINE.value,
)


def category_by_probability(probability: int | None) -> str:
    """The fallback of an open deal whose stage has no category: 80+, 50-79, below 50."""
    if probability is not None and probability >= COMMIT_FROM:
        return ForecastCategory.COMMIT
    if probability is not None and probability >= BEST_CASE_FROM:
        return ForecastCategory.BEST_CASE
    return ForecastCategory.PIPELINE


def stage_categories() -> dict[str, str]:
    """Lower-cased stage → forecast category, for stages that have one (two small queries):
    an admin's override in the stage mapping first, then Zoho's category of the stage when it
    is one of Zoho's open ones (Pipeline, Best Case, Committed)."""
    categories: dict[str, str] = {}
    for name, zoho in CrmStage.objects.values_list("name", "forecast_category"):
        zoho_category = ZOHO_OPEN_CATEGORIES.get(zoho.strip().lower())
        if zoho_category:
            categories[name.strip().lower()] = zoho_category.value
    overrides = StageMapping.objects.exclude(forecast_category="").values_list(
        "stage", "forecast_category"
    )
    for stage, override in overrides:
        categories[stage.strip().lower()] = override
    return categories


def forecast_category_of(
    *, outcome: str, stage: str, probability: int | None, categories: Mapping[str, str]
) -> str:
    """One deal's category, as forecast_category_expression computes it in the database."""
    if outcome == Outcome.WON:
        return ForecastCategory.CLOSED
    if outcome == Outcome.LOST:
        return ForecastCategory.OMITTED
    return categories.get(stage.strip().lower()) or category_by_probability(probability)


def forecast_category_expression(categories: Mapping[str, str]) -> Case:
    """The category as SQL; needs the `stage_key` annotation (with_forecast_category adds it)."""
    by_category: dict[str, list[str]] = defaultdict(list)
    for stage, category in categories.items():
        by_category[category].append(stage)
    return Case(
        When(outcome=Outcome.WON, then=Value(ForecastCategory.CLOSED.value)),
        When(outcome=Outcome.LOST, then=Value(ForecastCategory.OMITTED.value)),
        *(
            When(stage_key__in=sorted(stages), then=Value(category))
            for category, stages in sorted(by_category.items())
        ),
        When(probability__gte=COMMIT_FROM, then=Value(ForecastCategory.COMMIT.value)),
        When(probability__gte=BEST_CASE_FROM, then=Value(ForecastCategory.BEST_CASE.value)),
        default=Value(ForecastCategory.PIPELINE.value),
        output_field=CharField(),
    )


def with_forecast_category(
    deals: OpportunityQuerySet, categories: Mapping[str, str] | None = None
) -> Any:
    """Annotate `forecast_category` (a ForecastCategory value) on each deal (typed Any: the
    type checker cannot follow the annotation)."""
    categories = stage_categories() if categories is None else categories
    return deals.annotate(stage_key=Lower(Trim("stage"))).annotate(
        forecast_category=forecast_category_expression(categories)
    )


# --- Quarters ------------------------------------------------------------------------------------

_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*Q([1-4])\s*$", re.IGNORECASE)


def parse_quarter(text: str) -> tuple[date, date]:
    """ "2027Q1" (or "2027-q1") → its first and last day; ValueError with a reason otherwise."""
    match = _QUARTER.match(text or "")
    if not match:
        raise ValueError("Write a quarter as YYYYQn, e.g. 2027Q1.")
    year, number = int(match.group(1)), int(match.group(2))
    first = date(year, 3 * number - 2, 1)
    if not EARLIEST_BUSINESS_DATE <= first <= LATEST_BUSINESS_DATE:
        raise ValueError(
            f"Choose a quarter from {EARLIEST_BUSINESS_DATE.year}Q1 to "
            f"{LATEST_BUSINESS_DATE.year}Q4."
        )
    return quarter_bounds(first)


def quarter_code(day: date) -> str:
    """2027Q1: the quarter `day` falls in, as URLs and the API write it."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter_label(day: date) -> str:
    """Q1 2027: as screens write it."""
    return f"Q{(day.month - 1) // 3 + 1} {day.year}"


# --- The forecast --------------------------------------------------------------------------------


@dataclass(slots=True)
class Cell:
    """Deals of one category (of one owner or territory): SGD total, count, not converted."""

    amount_sgd: Decimal = ZERO
    deals: int = 0
    not_converted: int = 0

    def add(self, amount: Decimal | None, deals: int, not_converted: int) -> None:
        self.amount_sgd += amount or ZERO
        self.deals += deals
        self.not_converted += not_converted


@dataclass(slots=True)
class ForecastRow:
    """One owner's or territory's deals by category. `key` is what the board's filter takes
    (owner id, territory name); "" for no owner or no territory (no board filter reaches it)."""

    key: str
    label: str
    cells: dict[str, Cell] = field(default_factory=lambda: {c: Cell() for c in CATEGORY_ORDER})

    @property
    def total(self) -> Cell:
        total = Cell()
        for cell in self.cells.values():
            total.add(cell.amount_sgd, cell.deals, cell.not_converted)
        return total


@dataclass(frozen=True, slots=True)
class Forecast:
    quarter: tuple[date, date]
    totals: ForecastRow
    by_owner: list[ForecastRow]
    by_territory: list[ForecastRow]

    @property
    def code(self) -> str:
        return quarter_code(self.quarter[0])

    @property
    def not_converted(self) -> int:
        return self.totals.total.not_converted


def forecast(deals: OpportunityQuerySet, quarter: tuple[date, date]) -> Forecast:
    """The deals closing in the quarter by category, owner and territory (two queries).

    One GROUP BY over owner, territory and category; totals, owner rows and territory rows
    are sums of the same rows, so each set of rows adds up to the totals exactly. Deals with
    an amount but no SGD value are counted (`not_converted`), never summed.
    """
    rows = (
        with_forecast_category(deals.filter(closing_date__range=quarter))
        .order_by()
        .values("owner_id", "territory", "forecast_category")
        .annotate(
            sgd=Sum("amount_sgd"),
            deals=Count("pk"),
            missing=Count("pk", filter=NOT_CONVERTED),
        )
    )
    totals = ForecastRow("", "All deals")
    owners: dict[str, ForecastRow] = {}
    territories: dict[str, ForecastRow] = {}
    for row in rows:
        owner_key = "" if row["owner_id"] is None else str(row["owner_id"])
        territory = row["territory"] or ""
        values = (row["sgd"], row["deals"], row["missing"])
        totals.cells[row["forecast_category"]].add(*values)
        owner_row = owners.setdefault(owner_key, ForecastRow(owner_key, "No owner"))
        owner_row.cells[row["forecast_category"]].add(*values)
        territory_row = territories.setdefault(
            territory, ForecastRow(territory, territory or "No territory")
        )
        territory_row.cells[row["forecast_category"]].add(*values)
    names = dict(
        CrmUser.objects.filter(pk__in=[int(key) for key in owners if key]).values_list("pk", "name")
    )
    for key, owner_row in owners.items():
        if key:
            owner_row.label = names.get(int(key), f"Owner {key}")
    return Forecast(
        quarter=quarter,
        totals=totals,
        by_owner=_ordered(owners.values()),
        by_territory=_ordered(territories.values()),
    )


def _ordered(rows: Iterable[ForecastRow]) -> list[ForecastRow]:
    """Biggest open forecast first (Commit, then Best case, then everything), blanks last."""
    return sorted(
        rows,
        key=lambda r: (
            r.key == "",
            -r.cells[ForecastCategory.COMMIT].amount_sgd,
            -r.total.amount_sgd,
            r.label.lower(),
        ),
    )


# --- The waterfall -------------------------------------------------------------------------------

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


def _in_quarter(day: date | None, quarter: tuple[date, date]) -> bool:
    return day is not None and quarter[0] <= day <= quarter[1]


def _leaving_step(before: LedgerState, after: LedgerState, quarter: tuple[date, date]) -> str:
    if after.status == DealStatus.DELETED:
        return "deleted"
    if after.status in (DealStatus.WON, DealStatus.LOST):
        return str(after.status)
    if not _in_quarter(after.closing_date, quarter):
        return "pushed_out"
    return "fx"  # open, in the quarter, but no SGD value any more: its rate went


def _entering_step(before: LedgerState, after: LedgerState, quarter: tuple[date, date]) -> str:
    # A restored, reopened or re-dated deal: the reverse of the step it would have left by.
    if before.status == DealStatus.DELETED:
        return "deleted"
    if before.status in (DealStatus.WON, DealStatus.LOST):
        return str(before.status)
    if not _in_quarter(before.closing_date, quarter):
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


# --- FX what-if ----------------------------------------------------------------------------------

MAX_WHATIF_PERCENT = Decimal(100)


@dataclass(frozen=True, slots=True)
class Figure:
    now: Decimal
    what_if: Decimal

    @property
    def difference(self) -> Decimal:
        return self.what_if - self.now


@dataclass(frozen=True, slots=True)
class WhatIf:
    """Open and weighted pipeline, and the quarter's open categories, with one currency's
    rate moved by `percent`; closed deals keep their locked rates."""

    currency: str
    percent: Decimal
    open_pipeline: Figure
    weighted_pipeline: Figure
    categories: dict[str, Figure]
    deals_moved: int
    not_converted: int

    @property
    def percent_text(self) -> str:
        """+10, -7.5: the move as people write it."""
        text = format(self.percent.normalize(), "f")
        return text if self.percent < 0 else f"+{text}"


def fx_what_if(
    deals: OpportunityQuerySet,
    quarter: tuple[date, date],
    *,
    currency: str,
    percent: Decimal,
    converter: SgdConverter,
) -> WhatIf:
    """Each open deal in `currency` converted again with its rate moved (the converter's own
    arithmetic, exact); everything else as it is. Nothing is stored."""
    moved = converter.with_rate_moved(currency, percent)
    code = currency.strip().upper()
    open_deals = deals.open()
    categories = stage_categories()
    totals = open_deals.order_by().aggregate(
        open=Sum("amount_sgd"), weighted_x100=Sum(F("amount_sgd") * F("probability"))
    )
    in_quarter: dict[str, Decimal] = {
        row["forecast_category"]: row["sgd"] or ZERO
        for row in with_forecast_category(
            open_deals.filter(closing_date__range=quarter), categories
        )
        .order_by()
        .values("forecast_category")
        .annotate(sgd=Sum("amount_sgd"))
    }
    open_now, weighted_now = totals["open"] or ZERO, totals["weighted_x100"] or ZERO
    open_if, weighted_if = open_now, weighted_now
    quarter_if = dict(in_quarter)
    count = missing = 0
    rows = open_deals.filter(currency=code, amount__isnull=False).values_list(
        "amount", "amount_sgd", "probability", "closing_date", "stage"
    )
    for amount, sgd_now, probability, closing, stage in rows.iterator(chunk_size=5000):
        new = moved.convert(amount, code).amount_sgd
        if sgd_now is None or new is None:
            missing += 1
            continue
        count += 1
        open_if += new - sgd_now
        weighted_if += (new - sgd_now) * (probability or 0)
        if _in_quarter(closing, quarter):
            category = forecast_category_of(
                outcome=Outcome.OPEN, stage=stage, probability=probability, categories=categories
            )
            quarter_if[category] = quarter_if.get(category, ZERO) + new - sgd_now
    return WhatIf(
        currency=code,
        percent=percent,
        open_pipeline=Figure(open_now, open_if),
        weighted_pipeline=Figure(_cents(weighted_now / 100), _cents(weighted_if / 100)),
        categories={
            c: Figure(in_quarter.get(c, ZERO), quarter_if.get(c, ZERO))
            for c in OPEN_CATEGORY_VALUES
        },
        deals_moved=count,
        not_converted=missing,
    )


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def deals_of(deal_ids: Iterable[int]) -> dict[int, Any]:
    """Deals by id with their account and owner, for a step's list (one query)."""
    return Opportunity.objects.select_related("account", "owner").in_bulk(list(deal_ids))


__all__ = [
    "CATEGORY_ORDER",
    "REVIEW_PARAMS",
    "STEPS",
    "STEP_LABELS",
    "Forecast",
    "ForecastRow",
    "ReviewForm",
    "Waterfall",
    "WhatIf",
    "category_by_probability",
    "forecast",
    "forecast_category_expression",
    "forecast_category_of",
    "fx_what_if",
    "parse_quarter",
    "quarter_code",
    "quarter_label",
    "stage_categories",
    "waterfall",
    "with_forecast_category",
]


# --- Parameters ----------------------------------------------------------------------------------

# The review's own parameters; every other one is a board filter (DealFilter).
# (The what-if's are fx_currency and fx_percent: `currency` is the board's currency filter.)
REVIEW_PARAMS = ("quarter", "start", "end", "step", "fx_currency", "fx_percent", "page")


class ReviewForm(forms.Form):
    """The review's query string, for pages, exports and the API alike (errors name the
    parameter). Defaults: this quarter; the waterfall from the quarter's first day (or today,
    for a quarter still to come) to today."""

    quarter = forms.CharField(required=False, max_length=16)
    start = forms.DateField(required=False, validators=[validate_business_date])
    end = forms.DateField(required=False, validators=[validate_business_date])
    step = forms.ChoiceField(required=False, choices=[(s, s) for s in (*STEPS, "unexplained")])
    fx_currency = forms.CharField(required=False, max_length=3)
    fx_percent = forms.DecimalField(
        required=False,
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("-99.99"),
        max_value=MAX_WHATIF_PERCENT,
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_quarter(self) -> tuple[date, date]:
        text = self.cleaned_data.get("quarter") or ""
        if not text.strip():
            return quarter_bounds(self.today)
        try:
            return parse_quarter(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None

    def clean_fx_currency(self) -> str:
        code = (self.cleaned_data.get("fx_currency") or "").strip().upper()
        if code and not is_iso_code(code):
            raise forms.ValidationError("Not an ISO 4217 currency code.", code="invalid")
        if code == "SGD":
            raise forms.ValidationError(
                "SGD is the currency everything is shown in; choose another.", code="invalid"
            )
        return code

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        quarter = cleaned.get("quarter")
        if quarter is None:
            return cleaned
        if not cleaned.get("start") and "start" not in self.errors:
            cleaned["start"] = min(quarter[0], self.today)
        if not cleaned.get("end") and "end" not in self.errors:
            cleaned["end"] = self.today
        start, end = cleaned.get("start"), cleaned.get("end")
        if end and end > self.today:
            self.add_error("end", "The end cannot be after today: there is no history yet.")
        elif start and end and end < start:
            self.add_error("end", "The end is before the start.")
        currency, percent = cleaned.get("fx_currency"), cleaned.get("fx_percent")
        if currency and percent is None and "fx_percent" not in self.errors:
            self.add_error("fx_percent", "Say by how many percent the rate moves, e.g. -5.")
        if percent is not None and not currency and "fx_currency" not in self.errors:
            self.add_error("fx_currency", "Choose the currency whose rate moves.")
        return cleaned
