"""Bundled rates for a first run with no API key: approximate, dated, and flagged as seed.

They are used only for a currency nothing else is known about; any API rate or override
wins over them. The values are units per USD around the date below, rounded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

SEED_AS_OF = datetime(2025, 1, 2, tzinfo=UTC)

SEED_UNITS_PER_USD: dict[str, Decimal] = {
    "USD": Decimal("1"),
    "SGD": Decimal("1.3655"),
    "EUR": Decimal("0.9690"),
    "GBP": Decimal("0.8040"),
    "INR": Decimal("85.75"),
    "PHP": Decimal("58.05"),
    "MYR": Decimal("4.4750"),
    "IDR": Decimal("16230"),
    "THB": Decimal("34.30"),
    "VND": Decimal("25450"),
    "AUD": Decimal("1.6140"),
    "JPY": Decimal("157.30"),
    "CNY": Decimal("7.3000"),
    "HKD": Decimal("7.7700"),
}
