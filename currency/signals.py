"""What the currency app announces: the rates in effect, or their history, changed.

Currency depends on no other app. Whoever converts amounts with these rates (the
opportunities app) subscribes and brings its figures up to date in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.dispatch import Signal


@dataclass(frozen=True, slots=True)
class RateChange:
    """Which rates changed: `currencies` (None: possibly all of them) from business day
    `effective_from` on (None: only the rates in effect now, not the history)."""

    currencies: frozenset[str] | None
    effective_from: date | None = None

    def touches(self, currency: str) -> bool:
        return self.currencies is None or currency in self.currencies


# Sent with `change=RateChange(...)` inside the transaction that stored the rates; receivers
# return how many amounts they changed, summed into the refresh's report.
rates_changed = Signal()


def rates_changed_send(change: RateChange) -> int:
    """Announce a change; the number of amounts the receivers re-converted."""
    results: list[object] = [result for _, result in rates_changed.send(RateChange, change=change)]
    return sum(result for result in results if isinstance(result, int))
