"""Business periods are Singapore calendar periods, whatever the server's clock zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from pipeline_pulse.dates import day_bounds, month_bounds, quarter_bounds, start_of_day, week_bounds

SINGAPORE = ZoneInfo("Asia/Singapore")


def test_a_day_starts_at_singapore_midnight() -> None:
    assert start_of_day(date(2026, 11, 29)) == datetime(2026, 11, 29, tzinfo=SINGAPORE)
    assert day_bounds(date(2026, 11, 1), date(2026, 11, 30)) == (
        datetime(2026, 11, 1, tzinfo=SINGAPORE),
        datetime(2026, 12, 1, tzinfo=SINGAPORE),
    )


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 2, 14), (date(2026, 2, 1), date(2026, 2, 28))),
        (date(2028, 2, 29), (date(2028, 2, 1), date(2028, 2, 29))),
        (date(2026, 12, 31), (date(2026, 12, 1), date(2026, 12, 31))),
    ],
)
def test_month_bounds(day: date, expected: tuple[date, date]) -> None:
    assert month_bounds(day) == expected


@pytest.mark.parametrize(
    ("day", "offset", "expected"),
    [
        (date(2026, 11, 29), 0, (date(2026, 10, 1), date(2026, 12, 31))),
        (date(2026, 11, 29), 1, (date(2027, 1, 1), date(2027, 3, 31))),
        (date(2026, 1, 1), -1, (date(2025, 10, 1), date(2025, 12, 31))),
        (date(2026, 6, 30), 0, (date(2026, 4, 1), date(2026, 6, 30))),
    ],
)
def test_quarter_bounds(day: date, offset: int, expected: tuple[date, date]) -> None:
    assert quarter_bounds(day, offset=offset) == expected


def test_week_runs_monday_to_sunday() -> None:
    assert week_bounds(date(2026, 11, 29)) == (date(2026, 11, 23), date(2026, 11, 29))
    assert week_bounds(date(2026, 11, 30)) == (date(2026, 11, 30), date(2026, 12, 6))
