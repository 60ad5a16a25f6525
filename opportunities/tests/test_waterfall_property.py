"""The waterfall of a synced org with weeks of history reconciles for any quarter and period.

A simulated Zoho org is synced once in full, then every day for five weeks while its sales
team edits deals (new, pushed, pulled in, amounts, won, lost), deals are deleted and the
dollar's rate moves. After each sync the test notes each quarter's open pipeline as the deals
table says it. For random quarters and periods the waterfall must start and end at those
noted figures, its steps must add up from one to the other to the cent, and nothing may be
left unexplained: every writer recorded its move.
"""

from __future__ import annotations

import bisect
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opportunities.models import Opportunity
from opportunities.pipeline_review import STEPS, waterfall
from opportunities.tests.history_org import synced_org_with_history
from pipeline_pulse.dates import quarter_bounds, start_of_day

SGT = ZoneInfo("Asia/Singapore")
FIRST_SYNC = datetime(2026, 10, 1, 10, 0, tzinfo=SGT)
DAYS = 35
QUARTERS = [quarter_bounds(date(2026, 10, 1), offset=offset) for offset in (-1, 0, 1)]


def _open_by_quarter() -> dict[tuple[date, date], Decimal]:
    """Each quarter's open pipeline as the deals table says it now."""
    figures = {}
    for quarter in QUARTERS:
        amounts = (
            Opportunity.objects.open()
            .filter(closing_date__range=quarter, amount_sgd__isnull=False)
            .values_list("amount_sgd", flat=True)
        )
        figures[quarter] = sum((a or Decimal(0) for a in amounts), Decimal(0))
    return figures


@pytest.mark.django_db
def test_the_waterfall_reconciles_for_random_periods_of_a_synced_org() -> None:
    with time_machine.travel(FIRST_SYNC, tick=True) as clock:
        notes = synced_org_with_history(
            clock, first_sync=FIRST_SYNC, days=DAYS, deals=160, note=_open_by_quarter
        )
        last_day = (FIRST_SYNC + timedelta(days=DAYS - 1)).date()
        clock.move_to(FIRST_SYNC + timedelta(days=DAYS - 1, hours=5))
        times = [moment for moment, _ in notes]

        def noted(instant: datetime, quarter: tuple[date, date]) -> Decimal:
            """The quarter's open pipeline as noted after the last sync before `instant`
            (the first sync's, for an instant before it)."""
            index = max(bisect.bisect_left(times, instant) - 1, 0)
            return notes[index][1][quarter]

        deals = Opportunity.objects.all()
        days = st.dates(min_value=FIRST_SYNC.date() - timedelta(days=5), max_value=last_day)

        @settings(
            max_examples=60,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            derandomize=True,
        )
        @given(quarter=st.sampled_from(QUARTERS), first=days, second=days)
        def check(quarter: tuple[date, date], first: date, second: date) -> None:
            start, end = min(first, second), max(first, second)
            result = waterfall(deals, quarter, start, end)
            if end < FIRST_SYNC.date():
                # Nothing was recorded before the first sync: nothing to say, and said so.
                assert result.ends_before_history
                assert result.start_open_sgd == result.end_open_sgd == 0
                return
            steps = sum(result.steps.values(), Decimal(0))
            assert result.start_open_sgd + steps + result.unexplained_sgd == result.end_open_sgd
            assert result.unexplained_sgd == 0, dict(result.deals["unexplained"])
            assert result.start_open_sgd == noted(start_of_day(start), quarter)
            assert result.end_open_sgd == noted(start_of_day(end + timedelta(days=1)), quarter)
            assert result.starts_at_first_sync == (start <= FIRST_SYNC.date())
            for step in STEPS:
                listed = sum(result.deals.get(step, {}).values(), Decimal(0))
                assert listed == result.steps[step], step

        check()
        # The org really moved: most kinds of step happened in the quarter over the weeks.
        whole = waterfall(deals, QUARTERS[1], FIRST_SYNC.date(), last_day)
        moved = {step for step, amount in whole.steps.items() if amount}
        assert {"new", "pushed_out", "won", "fx"} <= moved, whole.steps
