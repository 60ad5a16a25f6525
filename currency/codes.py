"""ISO 4217 currency codes: the one pattern every model, form and parser checks against."""

from __future__ import annotations

import re

# Three upper-case letters; input is upper-cased first, so "usd" is accepted as USD.
ISO_CODE_REGEX = r"^[A-Z]{3}$"
ISO_CODE = re.compile(ISO_CODE_REGEX)


def is_iso_code(value: str) -> bool:
    return bool(ISO_CODE.match(value))


def normalise_code(value: object) -> str | None:
    """`value` as an upper-case ISO 4217 code, or None when it cannot be one."""
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    return code if is_iso_code(code) else None
