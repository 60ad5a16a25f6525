"""SGD conversion and bulk re-conversion at realistic volumes, on the real database.

Run on demand: `python -m bench currency_conversion`. Knobs: BENCH_FX_DEALS (20000) and
BENCH_FX_YEARS (2, years of 6-hourly rate history). It works in a database of its own
(`<name>_fxbench`, created and dropped here), inside one transaction rolled back at the end.
The table shows time, queries and peak Python memory for building a converter, converting
open deals in memory, locking won deals to their closing dates from the rate history, and
re-converting every open deal.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bench import Table
from bench.database import bench_database

DEALS = int(os.environ.get("BENCH_FX_DEALS", "20000"))
YEARS = int(os.environ.get("BENCH_FX_YEARS", "2"))
CURRENCIES = ("SGD", "USD", "EUR", "GBP", "INR", "PHP", "MYR", "IDR", "THB", "VND", "AUD", "JPY")


@dataclass
class Row:
    measure: str
    count: int
    seconds: float
    queries: int
    peak_mb: float

    def cells(self) -> list[str]:
        per_item = self.seconds / self.count * 1e6 if self.count else 0.0
        return [
            self.measure,
            f"{self.count:,}",
            f"{self.seconds:.3f}",
            f"{per_item:.1f}",
            str(self.queries),
            f"{self.peak_mb:.1f}",
        ]


def _measure(measure: str, count: int, work: Callable[[], Any]) -> Row:
    # Timed without tracemalloc (it slows Python down), then once more for the memory peak,
    # each inside a savepoint that is rolled back, so both runs start from the same data.
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            work()
            seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    with transaction.atomic():
        tracemalloc.start()
        work()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        transaction.set_rollback(True)
    return Row(measure, count, seconds, len(queries), peak / 2**20)


def _populate(deals: int, years: int) -> None:
    from currency.models import ExchangeRate, RateSource
    from opportunities.models import Opportunity

    # Four refreshes a day for `years`, every currency: what FX_REFRESH_HOURS=6 accumulates.
    start = datetime.now(UTC) - timedelta(days=365 * years)
    rates = []
    for step in range(365 * years * 4):
        as_of = start + timedelta(hours=6 * step)
        for index, code in enumerate(CURRENCIES):
            units = Decimal(1) if code == "USD" else Decimal(index + 1) + Decimal(step % 97) / 1000
            rates.append(
                ExchangeRate(currency=code, units_per_usd=units, as_of=as_of, source=RateSource.API)
            )
    ExchangeRate.objects.bulk_create(rates, batch_size=5000)
    today = datetime.now(UTC).date()
    Opportunity.objects.bulk_create(
        [
            Opportunity(
                zoho_id=f"fxbench{number}",
                name=f"Deal {number}",
                stage="Qualification",
                amount=Decimal(1000 + number % 5000) + Decimal("0.35"),
                currency=CURRENCIES[number % len(CURRENCIES)],
                outcome="won" if number % 3 == 0 else "open",
                closing_date=today - timedelta(days=number % (365 * years)),
            )
            for number in range(deals)
        ],
        batch_size=5000,
    )


def _measure_all(deals: int, years: int) -> list[Row]:
    from django.core.cache import cache

    from currency.conversion import sgd_converter
    from opportunities.models import Opportunity
    from opportunities.services.fx import opportunities_reconvert

    _populate(deals, years)
    cache.clear()
    open_deals = list(Opportunity.objects.open().values_list("amount", "currency"))
    won_deals = list(
        Opportunity.objects.filter(outcome="won").values_list("amount", "currency", "closing_date")
    )
    converter = sgd_converter(use_cache=False)

    def convert_open() -> None:
        for amount, currency in open_deals:
            converter.convert(amount, currency)

    def lock_won() -> None:
        fresh = sgd_converter(use_cache=False)  # history is loaded once per converter
        for amount, currency, closing_date in won_deals:
            fresh.convert(amount, currency, locked_on=closing_date)

    return [
        _measure("build converter (uncached)", 1, lambda: sgd_converter(use_cache=False)),
        _measure("convert open deals in memory", len(open_deals), convert_open),
        _measure("lock won deals to closing dates", len(won_deals), lock_won),
        _measure(
            "opportunities_reconvert (all open)",
            len(open_deals),
            lambda: opportunities_reconvert(converter=converter),
        ),
    ]


def run() -> Table:
    with bench_database("fxbench"), transaction.atomic():
        rows = _measure_all(DEALS, YEARS)
        transaction.set_rollback(True)
    return Table(
        title=(
            f"SGD conversion, {connection.vendor}: {DEALS:,} deals, {YEARS} years of 6-hourly "
            f"rates for {len(CURRENCIES)} currencies"
        ),
        columns=("measure", "items", "seconds", "µs/item", "queries", "peak MB"),
        rows=[row.cells() for row in rows],
        notes=["peak MB: Python allocations of the step (tracemalloc, in a second run)", ""],
    )
