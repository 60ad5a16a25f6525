"""The screens' shared reads of many deals: the dashboard's figures and breakdowns, the
board's group totals and filter options. Each takes the deals a login may see
(access.deals_visible_to) and answers in one query, in exact SGD."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from opportunities.models import (
    HEALTH_ORDER,
    NOT_CONVERTED,
    CrmUser,
    HealthStatus,
    OpportunityQuerySet,
    Outcome,
    Phase,
    revenue_not_recognised,
)
from pipeline_pulse.dates import quarter_bounds

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class PipelineSummary:
    """The KPIs of a set of deals, in SGD (exact Decimal, rounded half-up to the cent).

    Figures of the moment:
    - open_pipeline_sgd: SGD amounts of open deals;
    - weighted_pipeline_sgd: open deals' SGD amounts times their probability;
    - danger_count / danger_sgd: open deals in Danger (the health chart's Danger bar);
    - delivery_risk_count / delivery_risk_sgd: won deals in Danger whose revenue is not
      recognised yet ("delivery at risk");
    - not_convertible_count: deals of any outcome with an amount that has no SGD value (left
      out of every sum).

    Figures of the quarter (`quarter`: the chosen one, this quarter by default), over the
    deals closing in it:
    - won_this_quarter_sgd / won_quarter_count: won deals;
    - win_rate: won / (won + lost), None when none has closed in it;
    - closed_quarter_count: won and lost deals;
    - average_deal_sgd: the average SGD amount of its won deals, None without any.
    """

    open_pipeline_sgd: Decimal
    weighted_pipeline_sgd: Decimal
    won_this_quarter_sgd: Decimal
    danger_count: int
    danger_sgd: Decimal
    delivery_risk_count: int
    delivery_risk_sgd: Decimal
    won_quarter_count: int
    closed_quarter_count: int
    win_rate: Decimal | None
    average_deal_sgd: Decimal | None
    not_convertible_count: int
    quarter: tuple[date, date]

    @classmethod
    def from_totals(cls, totals: dict[str, Any], *, quarter: tuple[date, date]) -> PipelineSummary:
        def money(value: Decimal | None) -> Decimal:
            return (value or ZERO).quantize(CENT, ROUND_HALF_UP)

        won, lost = totals["won_count"], totals["lost_count"]
        won_converted = totals["won_converted"]
        return cls(
            open_pipeline_sgd=money(totals["open_pipeline"]),
            weighted_pipeline_sgd=money((totals["weighted_x100"] or ZERO) / 100),
            won_this_quarter_sgd=money(totals["won_this_quarter"]),
            danger_count=totals["danger_count"],
            danger_sgd=money(totals["danger_sgd"]),
            delivery_risk_count=totals["delivery_risk_count"],
            delivery_risk_sgd=money(totals["delivery_risk_sgd"]),
            won_quarter_count=won,
            closed_quarter_count=won + lost,
            win_rate=(Decimal(won) / Decimal(won + lost)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
            if won + lost
            else None,
            average_deal_sgd=money(totals["won_sgd"] / won_converted) if won_converted else None,
            not_convertible_count=totals["not_convertible"],
            quarter=quarter,
        )


# The dashboard's breakdowns of the open pipeline, named as the board's filters name them.
BREAKDOWN_FIELDS = {
    "phase": "phase",
    "health": "health_status",
    "territory": "territory",
    "service_line": "service_line",
}


@dataclass(frozen=True, slots=True)
class PipelineBucket:
    """One bar of a breakdown: the open deals with one value of a field.

    `value` is what the board's filter of the same name takes ("" for a blank field);
    `not_converted` deals are counted but left out of `amount_sgd`.
    """

    value: str
    deal_count: int
    amount_sgd: Decimal
    not_converted: int


def _bucket_order(dimension: str, buckets: dict[str, PipelineBucket]) -> list[PipelineBucket]:
    if dimension == "phase":
        return [buckets[str(phase)] for phase in Phase.values if str(phase) in buckets]
    if dimension == "health":
        return [buckets[status] for status in HEALTH_ORDER if status in buckets]
    # Territories and service lines: the biggest first, blanks last.
    return sorted(
        buckets.values(), key=lambda b: (b.value == "", -b.amount_sgd, -b.deal_count, b.value)
    )


def pipeline_summary(
    deals: OpportunityQuerySet,
    *,
    today: date | None = None,
    quarter: tuple[date, date] | None = None,
) -> PipelineSummary:
    """The dashboard's SGD figures over these deals, in one query (see PipelineSummary).

    `quarter` (first and last day) sets the period figures; by default this quarter.
    """
    today = today or timezone.localdate()
    quarter = quarter or quarter_bounds(today)
    is_open, is_won = Q(outcome=Outcome.OPEN), Q(outcome=Outcome.WON)
    in_quarter = Q(closing_date__range=quarter)
    won_in_quarter = is_won & in_quarter
    danger = Q(health_status=HealthStatus.DANGER)
    delivery_risk = is_won & danger & revenue_not_recognised(today)
    totals = deals.order_by().aggregate(
        open_pipeline=Sum("amount_sgd", filter=is_open),
        weighted_x100=Sum(F("amount_sgd") * F("probability"), filter=is_open),
        won_this_quarter=Sum("amount_sgd", filter=won_in_quarter),
        danger_count=Count("pk", filter=is_open & danger),
        danger_sgd=Sum("amount_sgd", filter=is_open & danger),
        delivery_risk_count=Count("pk", filter=delivery_risk),
        delivery_risk_sgd=Sum("amount_sgd", filter=delivery_risk),
        won_count=Count("pk", filter=won_in_quarter),
        lost_count=Count("pk", filter=Q(outcome=Outcome.LOST) & in_quarter),
        won_sgd=Sum("amount_sgd", filter=won_in_quarter),
        won_converted=Count("amount_sgd", filter=won_in_quarter),
        not_convertible=Count("pk", filter=NOT_CONVERTED),
    )
    return PipelineSummary.from_totals(totals, quarter=quarter)


def open_pipeline_breakdown(deals: OpportunityQuerySet) -> dict[str, list[PipelineBucket]]:
    """The open deals by phase, health, territory and service line, in one query.

    One GROUP BY over the four fields together (a few hundred rows at most in a real org)
    is summed here into the four breakdowns: one pass over the deals instead of four.
    Keys are those of BREAKDOWN_FIELDS; each list is in display order.
    """
    rows = (
        deals.open()
        .order_by()
        .values(*BREAKDOWN_FIELDS.values())
        .annotate(
            deals=Count("pk"),
            sgd=Sum("amount_sgd"),
            missing=Count("pk", filter=Q(amount_sgd__isnull=True)),
        )
    )
    totals: dict[str, dict[str, list[Any]]] = {name: {} for name in BREAKDOWN_FIELDS}
    for row in rows:
        for dimension, field in BREAKDOWN_FIELDS.items():
            value = str(row[field])
            count, sgd, missing = totals[dimension].setdefault(value, [0, ZERO, 0])
            totals[dimension][value] = [
                count + row["deals"],
                sgd + (row["sgd"] or ZERO),
                missing + row["missing"],
            ]
    return {
        dimension: _bucket_order(
            dimension,
            {
                value: PipelineBucket(value, count, sgd.quantize(CENT, ROUND_HALF_UP), missing)
                for value, (count, sgd, missing) in by_value.items()
            },
        )
        for dimension, by_value in totals.items()
    }


def health_groups(deals: OpportunityQuerySet) -> dict[str, tuple[int, Decimal]]:
    """Deals and SGD total per health state, in one query (the board's group headings)."""
    rows = (
        deals.order_by()
        .values_list("health_status")
        .annotate(deals=Count("pk"), sgd=Sum("amount_sgd"))
    )
    return {status: (deals, sgd or ZERO) for status, deals, sgd in rows}


def filter_options(deals: OpportunityQuerySet) -> dict[str, list[Any]]:
    """The board's choices among these deals, in one pass over them (plus owners' names).

    `owners` as (id, name) by name; `territories`, `service_lines`, `currencies` sorted,
    blanks left out. One GROUP BY over the four fields together instead of four scans.
    """
    combos = (
        deals.order_by().values_list("owner_id", "territory", "service_line", "currency").distinct()
    )
    owner_ids: set[int] = set()
    territories: set[str] = set()
    service_lines: set[str] = set()
    currencies: set[str] = set()
    for owner_id, territory, service_line, currency in combos:
        if owner_id is not None:
            owner_ids.add(owner_id)
        territories.add(territory)
        service_lines.add(service_line)
        currencies.add(currency)
    owners = CrmUser.objects.filter(pk__in=owner_ids).order_by("name", "pk")
    return {
        "owners": list(owners.values_list("pk", "name")),
        "territories": sorted(territories - {""}),
        "service_lines": sorted(service_lines - {""}),
        "currencies": sorted(currencies - {""}),
    }
