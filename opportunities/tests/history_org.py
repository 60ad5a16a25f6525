"""A simulated Zoho org synced with weeks of history, for the waterfall's tests and screens.

One full sync, then one incremental sync a day while the simulated sales team edits deals
(new, pushed, pulled in, amounts, stages, won, lost), some deals are deleted in Zoho and the
rates move: every writer of the pipeline ledger has its turn, through the real services.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from currency.client import UsdRates
from currency.services import fx_rates_store
from simulator.clock import SimulatorClock
from sync.models import SyncKind, SyncStatus, SyncTrigger
from sync.services import zoho_sync
from sync.tests.zoho_helpers import serve_zoho

T = TypeVar("T")
UNITS_PER_USD = {
    "SGD": "1.3",
    "USD": "1",
    "EUR": "0.92",
    "MYR": "4.4",
    "AUD": "1.5",
    "GBP": "0.79",
    "JPY": "150",
    "INR": "83",
    "IDR": "15500",
    "THB": "35",
    "PHP": "56",
    "VND": "24500",
    "HKD": "7.8",
    "CNY": "7.2",
}


def synced_org_with_history(
    clock: Any,
    *,
    first_sync: datetime,
    days: int,
    deals: int,
    note: Callable[[], T],
) -> list[tuple[datetime, T]]:
    """Sync the org once a day from `first_sync` for `days` days, moving `clock` (a
    time_machine traveller) along; `note()` after each sync, kept with the time it was taken.
    """
    fx_rates_store(
        rates=UsdRates(
            as_of=first_sync.astimezone(UTC) - timedelta(days=1),
            units_per_usd={code: Decimal(units) for code, units in UNITS_PER_USD.items()},
            missing=(),
        )
    )
    notes: list[tuple[datetime, T]] = []
    zoho_clock = SimulatorClock(first_sync.astimezone(UTC) - timedelta(minutes=30))
    with serve_zoho(
        deals=deals, clock=zoho_clock, activity=True, activity_every=timedelta(hours=8)
    ) as zoho:

        def sync(kind: str) -> None:
            run = zoho_sync(kind=kind, trigger=SyncTrigger.COMMAND, source=zoho.client())
            assert run.status == SyncStatus.SUCCEEDED, run.error

        sync(SyncKind.FULL)
        notes.append((datetime.now(tz=UTC), note()))
        for day in range(1, days):
            clock.move_to(first_sync + timedelta(days=day))
            zoho.simulator.clock.advance(timedelta(days=1))
            if day % 6 == 0:
                ids = [deal["id"] for deal in zoho.simulator.deals()]
                zoho.simulator.delete_deals(ids[day : day + 2])
            if day % 5 == 0:
                fx_rates_store(
                    rates=UsdRates(
                        as_of=datetime.now(tz=UTC) - timedelta(hours=1),
                        units_per_usd={
                            **{code: Decimal(units) for code, units in UNITS_PER_USD.items()},
                            "SGD": Decimal("1.3") + Decimal(day) / 1000,
                        },
                        missing=(),
                    )
                )
            sync(SyncKind.INCREMENTAL)
            notes.append((datetime.now(tz=UTC), note()))
    return notes
