"""The FX what-if: open and weighted pipeline and the forecast with one rate moved."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import F, Sum

from currency.conversion import SgdConverter
from opportunities.models import (
    Opportunity,
    OpportunityQuerySet,
    Outcome,
)
from opportunities.pipeline_review.categories import (
    OPEN_CATEGORY_VALUES,
    forecast_category_of,
    stage_categories,
    with_forecast_category,
)
from opportunities.pipeline_review.forecast import (
    CENT,
    ZERO,
)
from opportunities.pipeline_review.quarters import within_quarter

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
        if within_quarter(closing, quarter):
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
