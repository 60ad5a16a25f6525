"""The simulated sales team: a few believable edits between syncs, driven by clock and seed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from simulator.clock import SimulatorClock
from simulator.dataset import STAGES_BY_NAME
from simulator.server import SimulatorServer
from simulator.tests.test_zoho_simulator import Org, mint
from simulator.zoho import ZohoSimulator
from simulator.zoho_activity import ACTIVITY_EVERY, EDITS_PER_ROUND, MAX_ROUNDS_AT_ONCE

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIELDS = "Deal_Name,Stage,Probability,Closing_Date,Amount,Modified_Time,Modified_By,Owner"


def _simulator(*, activity: bool = False) -> ZohoSimulator:
    return ZohoSimulator(deals=300, seed=11, clock=SimulatorClock(START), activity=activity)


@pytest.fixture
def busy_org() -> Iterator[Org]:
    simulator = _simulator(activity=True)
    with SimulatorServer([simulator]) as server:
        token = mint(server.url, simulator).json()["access_token"]
        yield Org(simulator, server.url, token)


def test_the_org_is_still_unless_activity_is_asked_for() -> None:
    simulator = _simulator()
    before = simulator.deals()
    simulator.clock.advance(timedelta(hours=2))
    assert simulator.activity is None
    assert simulator.deals() == before


def test_between_syncs_the_team_edits_a_few_deals_that_an_incremental_read_returns(
    busy_org: Org,
) -> None:
    simulator = busy_org.simulator
    listed = busy_org.get(fields=FIELDS, per_page=200)
    assert listed.status_code == 200
    assert simulator.activity is not None
    assert simulator.activity.edits == []
    since = simulator.clock.now().isoformat()

    simulator.clock.advance(ACTIVITY_EVERY * 3)
    changed = busy_org.get(fields=FIELDS, headers={"If-Modified-Since": since})

    edits = simulator.activity.edits
    assert {edit.round for edit in edits} == {1, 2, 3}
    assert 3 * EDITS_PER_ROUND[0] <= len(edits) <= 3 * EDITS_PER_ROUND[1]
    assert changed.status_code == 200
    returned = {record["id"]: record for record in changed.json()["data"]}
    assert set(returned) == {edit.deal_id for edit in edits}
    now = simulator.clock.now()
    for edit in edits:
        record = returned[edit.deal_id]
        assert datetime.fromisoformat(record["Modified_Time"]) == now
        assert record["Modified_By"]["id"] == record["Owner"]["id"]  # the rep, not a robot


def test_rounds_are_played_when_a_listing_starts_never_in_the_middle_of_one(
    busy_org: Org,
) -> None:
    simulator = busy_org.simulator
    first = busy_org.get(fields=FIELDS, per_page=100).json()
    simulator.clock.advance(ACTIVITY_EVERY * 2)
    token = first["info"]["next_page_token"]
    assert busy_org.get(fields=FIELDS, per_page=100, page_token=token).status_code == 200
    assert simulator.activity is not None
    assert simulator.activity.edits == []
    busy_org.get(fields=FIELDS, per_page=100)
    assert {edit.round for edit in simulator.activity.edits} == {1, 2}


def test_the_same_seed_and_clock_make_the_same_edits() -> None:
    def play() -> list[tuple[int, str, str]]:
        simulator = _simulator(activity=True)
        assert simulator.activity is not None
        for _ in range(6):
            simulator.clock.advance(ACTIVITY_EVERY * 2)
            simulator.activity.catch_up()
        return [(e.round, e.action, e.deal_id) for e in simulator.activity.edits]

    assert play() == play()


def test_after_a_long_pause_only_the_latest_rounds_are_played() -> None:
    simulator = _simulator(activity=True)
    assert simulator.activity is not None
    simulator.clock.advance(ACTIVITY_EVERY * 100)
    edits = simulator.activity.catch_up()
    assert {edit.round for edit in edits} == set(range(101 - MAX_ROUNDS_AT_ONCE, 101))
    assert simulator.activity.catch_up() == []  # nothing more is due


def test_a_day_of_activity_is_every_kind_of_change_and_keeps_the_data_consistent() -> None:
    simulator = _simulator(activity=True)
    activity = simulator.activity
    assert activity is not None
    deals_before = len(simulator.deals())
    for _ in range(8 * 20):  # eight hours, one listing a round
        simulator.clock.advance(ACTIVITY_EVERY)
        activity.catch_up()
    actions = Counter(edit.action for edit in activity.edits)
    assert set(actions) == {
        "push_closing_date",
        "pull_in_closing_date",
        "change_amount",
        "advance_stage",
        "revise_probability",
        "step_back",
        "enter_milestone",
        "win",
        "lose",
        "new_deal",
    }
    assert len(simulator.deals()) == deals_before + actions["new_deal"]
    today = simulator.clock.now().date()
    for edit in activity.edits:
        record = simulator.deal(edit.deal_id)
        if edit.action in ("win", "lose", "advance_stage", "step_back"):
            stage = STAGES_BY_NAME[edit.changes["Stage"]]
            assert edit.changes["Probability"] == stage.probability
        if edit.action == "revise_probability":
            assert 5 <= edit.changes["Probability"] <= 95
        if edit.action == "push_closing_date":
            assert date.fromisoformat(edit.changes["Closing_Date"]) > today
        if edit.action == "change_amount":
            assert isinstance(edit.changes["Amount"], Decimal)
            assert edit.changes["Amount"] > 0
        if edit.action == "win":
            assert record["PO_Generation_Date"] is not None
    # Later edits may move a deal on again; a rep's own probability stays near the stage's.
    for record in simulator.deals():
        default = STAGES_BY_NAME[record["Stage"]].probability
        assert abs(record["Probability"] - default) <= 15
