"""Benchmark: SGD conversion and bulk re-conversion at realistic volumes, on the real database.

Run on demand: `.venv/bin/python -m bench.currency_conversion [--deals 20000] [--years 2]`.
It creates (or reuses) the database `test_<DATABASE name>_fxbench`, does everything inside
one transaction and rolls it back, so nothing is left behind. Prints a table: time, queries
and peak Python memory for building a converter, converting open deals in memory, locking
won deals to their closing dates from the rate history, and re-converting every open deal.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import django
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

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


def run(deals: int, years: int) -> list[Row]:
    from django.core.cache import cache

    from currency.conversion import sgd_converter
    from currency.services import opportunities_reconvert
    from opportunities.models import Opportunity

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


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=2, help="Years of 6-hourly rate history.")
    options = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipeline_pulse.settings")
    django.setup()
    test_settings = connection.settings_dict.setdefault("TEST", {})
    test_settings["NAME"] = f"test_{connection.settings_dict['NAME']}_fxbench"
    original_name = connection.creation.create_test_db(verbosity=0, keepdb=True)
    try:
        with transaction.atomic():
            rows = run(options.deals, options.years)
            transaction.set_rollback(True)
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0, keepdb=True)

    headings = ["measure", "items", "seconds", "µs/item", "queries", "peak MB"]
    table = [headings, *(row.cells() for row in rows)]
    widths = [max(len(line[column]) for line in table) for column in range(len(headings))]
    print(
        f"SGD conversion — {options.deals:,} deals, {options.years} years of 6-hourly rates "
        f"for {len(CURRENCIES)} currencies ({connection.vendor})\n"
    )
    for line in table:
        print("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)))


if __name__ == "__main__":
    main()
