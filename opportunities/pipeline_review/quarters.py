"""Quarters as the pipeline review names them: "2027Q1" in URLs, "Q1 2027" on screens."""

from __future__ import annotations

import re
from datetime import date

from pipeline_pulse.dates import (
    EARLIEST_BUSINESS_DATE,
    LATEST_BUSINESS_DATE,
    quarter_bounds,
)

_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*Q([1-4])\s*$", re.IGNORECASE)


def parse_quarter(text: str) -> tuple[date, date]:
    """ "2027Q1" (or "2027-q1") → its first and last day; ValueError with a reason otherwise."""
    match = _QUARTER.match(text or "")
    if not match:
        raise ValueError("Write a quarter as YYYYQn, e.g. 2027Q1.")
    year, number = int(match.group(1)), int(match.group(2))
    first = date(year, 3 * number - 2, 1)
    if not EARLIEST_BUSINESS_DATE <= first <= LATEST_BUSINESS_DATE:
        raise ValueError(
            f"Choose a quarter from {EARLIEST_BUSINESS_DATE.year}Q1 to "
            f"{LATEST_BUSINESS_DATE.year}Q4."
        )
    return quarter_bounds(first)


def quarter_code(day: date) -> str:
    """2027Q1: the quarter `day` falls in, as URLs and the API write it."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter_label(day: date) -> str:
    """Q1 2027: as screens write it."""
    return f"Q{(day.month - 1) // 3 + 1} {day.year}"


def within_quarter(day: date | None, quarter: tuple[date, date]) -> bool:
    """Whether a day (none: no) falls within the quarter's first and last day."""
    return day is not None and quarter[0] <= day <= quarter[1]
