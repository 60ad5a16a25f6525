"""ISO 4217 currency codes: the one list every model, form and parser checks against."""

from __future__ import annotations

import re

from iso4217 import Currency

# The shape a stored code has (the database's check constraints); input is upper-cased first,
# so "usd" is accepted as USD.
ISO_CODE_REGEX = r"^[A-Z]{3}$"
ISO_CODE = re.compile(ISO_CODE_REGEX)

# The currencies in ISO 4217's current list (the iso4217 package follows the maintenance
# agency's table). Units without minor units (gold and other metals, the SDR, the bond units,
# the test code XTS and "no currency" XXX) are not money a deal can be in.
CURRENCY_CODES = frozenset(currency.code for currency in Currency if currency.exponent is not None)


def is_iso_code(value: str) -> bool:
    """A current ISO 4217 currency code, upper-case: "XYZ" has the shape but is none."""
    return value in CURRENCY_CODES


def normalise_code(value: object) -> str | None:
    """`value` as an upper-case ISO 4217 code, or None when it cannot be one."""
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    return code if is_iso_code(code) else None
