"""How rates are shown to people: plain numbers and short ages (admin and fx_refresh)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.utils import timezone


def plain_number(value: Decimal | None) -> str:
    """A rate without the column's trailing zeros: 83.12, not 83.120000000000000000."""
    return "—" if value is None else f"{value.normalize():f}"


def age_label(as_of: datetime | None, *, now: datetime | None = None) -> str:
    """A short human age such as "3 h", "12 d" or "in 5 min" (a rate dated in the future)."""
    if as_of is None:
        return "—"
    seconds = int(((now or timezone.now()) - as_of).total_seconds())
    prefix = "in " if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 3600:
        text = f"{seconds // 60} min"
    elif seconds < 2 * 86400:
        text = f"{seconds // 3600} h"
    else:
        text = f"{seconds // 86400} d"
    return prefix + text
