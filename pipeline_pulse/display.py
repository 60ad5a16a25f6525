"""How figures read on every screen, export, e-mail and admin page: money, dates, ages.

The one place for the style rules (docs/screens.md): `S$1,234,567.89`, or `S$1.2M` where room
is short; local amounts with their ISO code; dates as `26 Nov 2026`; times in Singapore;
ages as "4 min ago". Plain text: templates escape it like any other value.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

# A real minus sign: the same width as the digits in tabular figures.
MINUS = "\u2212"
_UNITS = ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(1000), "K"), (Decimal(1), ""))


def _grouped(value: Decimal, places: int = 2) -> str:
    quantum = Decimal(1).scaleb(-places)
    return f"{abs(value).quantize(quantum, ROUND_HALF_UP):,.{places}f}"


def sgd(value: Decimal | int | None) -> str:
    """S$1,234,567.89 (a minus sign in front of the symbol for a negative amount)."""
    if value is None:
        return "—"
    amount = Decimal(value)
    return f"{MINUS if amount < 0 else ''}S${_grouped(amount)}"


def _scaled(size: Decimal, index: int) -> str:
    threshold, suffix = _UNITS[index]
    scaled = size / threshold
    places = 0 if scaled >= 100 or not suffix else 1
    text = f"{scaled.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):,.{places}f}"
    return text.removesuffix(".0") + suffix


def sgd_short(value: Decimal | int | None) -> str:
    """S$12.3M, S$450K, S$980: three significant figures at most, for KPIs and charts."""
    if value is None:
        return "—"
    amount = Decimal(value)
    sign, size = (MINUS if amount < 0 else ""), abs(amount).quantize(Decimal(1), ROUND_HALF_UP)
    index = next(i for i, (threshold, _) in enumerate(_UNITS) if size >= threshold or i == 3)
    text = _scaled(size, index)
    # 999,950 rounds to "1000K": say "1M" instead.
    if index and Decimal(text.rstrip("BMK").replace(",", "")) >= 1000:
        text = _scaled(size, index - 1)
    return f"{sign}S${text}"


def local_money(amount: Decimal | None, currency: str) -> str:
    """USD 125,000.00: a deal's own amount with its ISO code."""
    if amount is None:
        return "—"
    return f"{currency} {_grouped(Decimal(amount))}"


def plain_number(value: Decimal | None) -> str:
    """A rate without the column's trailing zeros: 83.12, not 83.120000000000000000."""
    return "—" if value is None else f"{value.normalize():f}"


def percent(value: Decimal | None) -> str:
    """A ratio (0.4567) as 45.7%."""
    if value is None:
        return "—"
    return f"{(Decimal(value) * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


def day(value: date | datetime | None) -> str:
    """26 Nov 2026 (a datetime is shown as its Singapore day)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return f"{value.day} {value:%b %Y}"


def moment(value: datetime | None) -> str:
    """26 Nov 2026, 14:03 in Singapore time."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return f"{local.day} {local:%b %Y, %H:%M}"


def age_words(value: datetime | None, *, now: datetime | None = None, suffix: str = "ago") -> str:
    """4 min ago, 3 h ago, 12 days ago ("old" instead of "ago" for a thing's age); "just now"
    under a minute; "in 5 min" for a time ahead; "never" for no time at all."""
    if value is None:
        return "never"
    seconds = int(((now or timezone.now()) - value).total_seconds())
    ahead, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        return "just now" if suffix == "ago" else "under 1 min old"
    if seconds < 3600:
        text = f"{seconds // 60} min"
    elif seconds < 48 * 3600:
        text = f"{seconds // 3600} h"
    else:
        text = f"{seconds // 86400} days"
    return f"in {text}" if ahead else f"{text} {suffix}"
