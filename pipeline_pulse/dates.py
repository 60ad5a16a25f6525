"""Business dates: Singapore calendar days, and the periods sales people speak in.

Storage is UTC; "today", "overdue" and "this quarter" are Singapore days (TIME_ZONE).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

# The dates a person may enter or ask about: a deal's closing and milestone dates, a period of
# "what changed", a board filter. Outside them a date is a slip (0001-01-01, 9999-12-31) that
# Zoho would store and date arithmetic would overflow on.
EARLIEST_BUSINESS_DATE = date(2000, 1, 1)
LATEST_BUSINESS_DATE = date(2099, 12, 31)
BUSINESS_DATE_MESSAGE = (
    f"Enter a date from {EARLIEST_BUSINESS_DATE:%d %b %Y} to {LATEST_BUSINESS_DATE:%d %b %Y}."
)


def validate_business_date(value: date) -> None:
    """A Django validator (forms, models and DRF serializers run it): the window above."""
    if not EARLIEST_BUSINESS_DATE <= value <= LATEST_BUSINESS_DATE:
        raise ValidationError(BUSINESS_DATE_MESSAGE, code="date_out_of_range")


def start_of_day(day: date) -> datetime:
    """Midnight at the start of a Singapore business day, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants that enclose the business days `start` to `end`, both included: [from, to)."""
    return start_of_day(start), start_of_day(end + timedelta(days=1))


def month_bounds(day: date) -> tuple[date, date]:
    """The first and last day of the month `day` falls in."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def quarter_bounds(day: date, *, offset: int = 0) -> tuple[date, date]:
    """The first and last day of the calendar quarter `day` falls in, moved `offset` quarters."""
    index = (day.year * 4 + (day.month - 1) // 3) + offset
    year, quarter = divmod(index, 4)
    first = date(year, quarter * 3 + 1, 1)
    last_month_first = date(year, quarter * 3 + 3, 1)
    return first, month_bounds(last_month_first)[1]


def week_bounds(day: date) -> tuple[date, date]:
    """Monday to Sunday of the week `day` falls in."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)
