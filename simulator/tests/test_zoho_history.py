"""The simulated org's past: working days replayed on a moved clock, reproducibly."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from simulator.clock import SimulatorClock
from simulator.timelines import SINGAPORE
from simulator.zoho import ZohoSimulator
from simulator.zoho_history import WORKDAY_END, WORKDAY_START, OrgHistory, history_start

NOW = datetime(2026, 9, 16, 15, 0, tzinfo=SINGAPORE)  # a Wednesday


def _history(seed: int = 3) -> tuple[ZohoSimulator, OrgHistory]:
    simulator = ZohoSimulator(deals=300, seed=seed, clock=SimulatorClock(history_start(NOW, 60)))
    return simulator, OrgHistory(simulator, rounds_per_workday=6, new_deals_per_workday=1.5)


def _weeks(history: OrgHistory, first: date, days: int) -> None:
    for n in range(days):
        history.workday(first + timedelta(days=n))


def test_the_history_starts_at_the_end_of_a_working_day_in_the_past() -> None:
    start = history_start(NOW, 60)
    assert start.date() == date(2026, 7, 18)
    assert start.timetz().replace(tzinfo=None) == WORKDAY_END


def test_weekends_are_quiet_and_weekdays_edit_within_working_hours() -> None:
    simulator, history = _history()
    saturday, monday = date(2026, 7, 18), date(2026, 7, 20)

    assert history.workday(saturday) == []
    edits = history.workday(monday)

    assert edits
    assert simulator.clock.now() == datetime.combine(monday, WORKDAY_END, tzinfo=SINGAPORE)
    opening = datetime.combine(monday, WORKDAY_START, tzinfo=SINGAPORE)
    for edit in edits:
        modified = datetime.fromisoformat(simulator.deal(edit.deal_id)["Modified_Time"])
        if modified.date() == monday:
            assert opening <= modified < datetime.combine(monday, WORKDAY_END, tzinfo=SINGAPORE)


def test_months_of_work_keep_the_pipeline_in_order() -> None:
    simulator, history = _history()
    before = len(simulator.deals())
    first = date(2026, 7, 19)
    _weeks(history, first, 60)
    last = first + timedelta(days=59)
    actions = Counter(edit.action for edit in history.edits)

    assert {"new_deal", "win", "lose", "push_closing_date", "next_step", "reopen"} <= set(actions)
    assert len(simulator.deals()) == before + actions["new_deal"]
    open_deals = [
        deal
        for deal in simulator.deals()
        if deal["Stage"] not in ("Closed Won", "Closed Lost", "Closed Lost to Competition")
    ]
    overdue = [d for d in open_deals if date.fromisoformat(d["Closing_Date"]) < last]
    assert len(overdue) < 0.15 * len(open_deals)  # dealt with, not left to pile up


def test_the_same_seed_replays_the_same_past() -> None:
    first = date(2026, 7, 19)
    runs = []
    for _ in range(2):
        _, history = _history(seed=5)
        _weeks(history, first, 10)
        runs.append([(e.action, e.deal_id, dict(e.changes)) for e in history.edits])
    assert runs[0] == runs[1]


def test_a_replay_needs_a_frozen_clock() -> None:
    with pytest.raises(ValueError, match="frozen"):
        OrgHistory(ZohoSimulator(deals=10, seed=1))
