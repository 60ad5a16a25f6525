"""What the currency app announces and asks: rates changed; which currencies are in use.

Currency depends on no other app. Whoever converts amounts with these rates (the
opportunities app) subscribes: it brings its figures up to date when rates change, in the
same transaction, and says which currencies it needs rates for.
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


# Sent before a refresh; receivers return the currency codes their data uses, so every one
# of them gets a rate, not only the configured FX_CURRENCIES.
currencies_in_use = Signal()


def currencies_in_use_ask() -> set[str]:
    """Every currency code the receivers say their data uses, upper-cased."""
    codes: set[str] = set()
    for _, result in currencies_in_use.send(sender=RateChange):
        codes.update(str(code).strip().upper() for code in (result or ()))
    return codes
