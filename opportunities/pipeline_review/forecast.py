"""A quarter's forecast: its deals by category, by owner and by territory, to the cent."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Sum

from opportunities.models import (
    NOT_CONVERTED,
    CrmUser,
    ForecastCategory,
    OpportunityQuerySet,
)
from opportunities.pipeline_review.categories import (
    CATEGORY_ORDER,
    with_forecast_category,
)
from opportunities.pipeline_review.quarters import (
    quarter_code,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


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
