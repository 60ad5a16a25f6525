"""The simulator's data set: deterministic, relative to now, and as consistent and as healthy
as a well-kept Zoho org with a few deals slipping."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from simulator.dataset import CURRENCIES, STAGES_BY_NAME, TERRITORIES, generate_deals

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)
ONE_DAY = timedelta(days=1)
NINE_MONTHS = timedelta(days=270)


@pytest.fixture(scope="module")
def deals() -> list[dict[str, Any]]:
    return generate_deals(3000, seed=42, now=NOW)


def day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def test_the_same_seed_gives_the_same_deals_and_another_seed_others() -> None:
    assert generate_deals(50, seed=1, now=NOW) == generate_deals(50, seed=1, now=NOW)
    assert generate_deals(50, seed=1, now=NOW) != generate_deals(50, seed=2, now=NOW)


def test_ids_are_unique_19_digit_strings_growing_with_creation(deals: list[dict[str, Any]]) -> None:
    ids = [deal["id"] for deal in deals]

    assert all(len(deal_id) == 19 and deal_id.isdigit() for deal_id in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    created = [datetime.fromisoformat(deal["Created_Time"]) for deal in deals]
    assert created == sorted(created)


def test_times_are_spread_over_past_months_and_modified_after_created(
    deals: list[dict[str, Any]],
) -> None:
    for deal in deals:
        created = datetime.fromisoformat(deal["Created_Time"])
        modified = datetime.fromisoformat(deal["Modified_Time"])
        assert created <= modified <= NOW
        assert created.utcoffset() is not None
    oldest = datetime.fromisoformat(deals[0]["Created_Time"])
    assert (NOW - oldest).days > 400


def test_several_currencies_with_amounts_in_whole_cents(deals: list[dict[str, Any]]) -> None:
    currencies = Counter(deal["Currency"] for deal in deals)

    assert set(currencies) == set(CURRENCIES)
    for deal in deals:
        amount: Decimal = deal["Amount"]
        assert amount > 0
        assert amount == amount.quantize(Decimal("0.01"))
        assert len(amount.as_tuple().digits) <= 15  # exact through Zoho's double
        assert deal["Exchange_Rate"] == CURRENCIES[deal["Currency"]].per_sgd


def test_stages_standard_and_custom_with_consistent_probabilities(
    deals: list[dict[str, Any]],
) -> None:
    stages = Counter(deal["Stage"] for deal in deals)

    assert {"Qualification", "Closed Won", "Closed Lost", "Proposal submitted (60)"} <= set(stages)
    revised = 0
    for deal in deals:
        stage = STAGES_BY_NAME[deal["Stage"]]
        if stage.kind in ("won", "lost"):
            assert deal["Probability"] == stage.probability
        else:  # a rep may set their own, near the stage's default
            assert abs(deal["Probability"] - stage.probability) <= 15
            assert 5 <= deal["Probability"] <= 95
            revised += deal["Probability"] != stage.probability
    open_deals = sum(STAGES_BY_NAME[deal["Stage"]].kind in ("open", "proposal") for deal in deals)
    assert 0.2 < revised / open_deals < 0.5
    assert 0.1 < stages["Closed Lost"] / len(deals) < 0.2


def test_deal_names_are_unique_and_name_no_real_company(deals: list[dict[str, Any]]) -> None:
    names = [deal["Deal_Name"] for deal in deals]
    assert len(set(names)) == len(names)
    assert not any(word in name for name in names for word in ("Temasek", "Raffles"))


def test_milestones_are_consistent_with_each_stage(deals: list[dict[str, Any]]) -> None:
    chain = ("PO_Generation_Date", "Kick_off_Date", "Invoice_Date", "Payment_Received_Date")
    for deal in deals:
        stage = STAGES_BY_NAME[deal["Stage"]]
        proposal = day(deal["Proposal_Submission_date"])
        po = day(deal["PO_Generation_Date"])
        if stage.kind in ("proposal", "won"):
            assert proposal is not None
        if stage.kind == "open":
            assert proposal is None
        if stage.kind == "won":
            assert po is not None
        elif po is not None:  # a PO before the win: only on a high-probability proposal
            assert stage.kind == "proposal"
            assert stage.probability >= 80
        dates = [day(deal[name]) for name in (*chain, "OB_Recognition_Date")]
        reached = [value for value in dates if value is not None]
        assert dates[: len(reached)] == reached  # no gaps: paid implies invoiced, ...
        assert reached == sorted(reached)
        assert all(value <= TODAY for value in reached)
        if proposal is not None:
            assert proposal <= TODAY
            assert po is None or proposal <= po
            assert proposal >= datetime.fromisoformat(deal["Created_Time"]).date()
        if reached:  # Zoho's Modified_Time is never before a date was entered
            assert datetime.fromisoformat(deal["Modified_Time"]).date() >= reached[-1] - ONE_DAY
    won = [deal for deal in deals if deal["Stage"] == "Closed Won"]
    assert 0 < sum(1 for deal in won if deal["Payment_Received_Date"]) < len(won)


def _open(deals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [deal for deal in deals if STAGES_BY_NAME[deal["Stage"]].kind in ("open", "proposal")]


def _share(part: list[Any], whole: list[Any]) -> float:
    return len(part) / len(whole)


def test_most_open_deals_close_in_the_next_months_and_a_few_have_slipped(
    deals: list[dict[str, Any]],
) -> None:
    open_deals = _open(deals)
    closing = [day(deal["Closing_Date"]) or TODAY for deal in open_deals]
    ahead = [when for when in closing if TODAY + timedelta(days=21) <= when <= TODAY + NINE_MONTHS]
    passed = [when for when in closing if when < TODAY]
    assert 0.35 < _share(open_deals, deals) < 0.55
    assert _share(ahead, closing) > 0.85
    assert 0.04 < _share(passed, closing) < 0.1
    assert all(when >= TODAY - timedelta(days=45) for when in passed)  # slipping, not abandoned


def test_the_open_pipeline_is_mostly_fresh(deals: list[dict[str, Any]]) -> None:
    open_deals = _open(deals)
    idle = [NOW - datetime.fromisoformat(deal["Modified_Time"]) for deal in open_deals]
    stale = [age for age in idle if age > timedelta(days=21)]
    assert 0.1 < _share(stale, idle) < 0.2
    proposals = [day(d["Proposal_Submission_date"]) for d in open_deals]
    out = [when for when in proposals if when is not None]
    old = [when for when in out if (TODAY - when).days > 30]
    assert 0.12 < _share(old, out) < 0.3


def test_won_deals_are_being_realised_and_a_few_invoices_are_overdue(
    deals: list[dict[str, Any]],
) -> None:
    won = [deal for deal in deals if deal["Stage"] == "Closed Won"]
    paid = [deal for deal in won if deal["Payment_Received_Date"]]
    unpaid_late = [
        deal
        for deal in won
        if deal["Invoice_Date"]
        and not deal["Payment_Received_Date"]
        and (TODAY - date.fromisoformat(deal["Invoice_Date"])).days > 45
    ]
    assert _share(paid, won) > 0.7
    assert 0 < _share(unpaid_late, won) < 0.05
    for step in ("Kick_off_Date", "Invoice_Date", "Payment_Received_Date"):
        # Deals in the middle of realisation: waiting for this step right now.
        assert any(deal[step] is None and deal["PO_Generation_Date"] for deal in won), step


def test_the_same_org_whatever_day_it_is() -> None:
    later = NOW + timedelta(days=100)
    today_deals = generate_deals(200, seed=3, now=NOW)
    later_deals = generate_deals(200, seed=3, now=later)
    shift = later.date() - NOW.date()
    for deal, moved in zip(today_deals, later_deals, strict=True):
        assert moved["Stage"] == deal["Stage"]
        assert day(moved["Closing_Date"]) == (day(deal["Closing_Date"]) or TODAY) + shift


def test_owners_accounts_and_org_fields_are_filled(deals: list[dict[str, Any]]) -> None:
    owners = {deal["Owner"]["email"] for deal in deals}

    assert len(owners) == 14
    assert all(email.endswith("@pulse-demo.example.com") for email in owners)
    per_owner = Counter(deal["Owner"]["email"] for deal in deals)
    assert max(per_owner.values()) < 4 * min(per_owner.values())
    territories = Counter(deal["Region"] for deal in deals)
    assert set(territories) == {territory.name for territory in TERRITORIES}
    # A handful of deals in currencies outside the usual list, which the rates simulator knows.
    currencies = Counter(deal["Currency"] for deal in deals)
    assert all(0 < currencies[code] < 0.03 * len(deals) for code in ("CHF", "NZD", "KRW"))
    assert len({deal["Account_Name"]["id"] for deal in deals}) > 150
    for field in ("Region", "Solution_Type", "Type_of_Funding", "Market_Segment"):
        assert len({deal[field] for deal in deals}) >= 4, field
    pipelines = Counter(type(deal["Pipeline"]).__name__ for deal in deals)
    assert set(pipelines) == {"str", "dict"}  # both shapes Zoho has sent
    assert max(len(deal["Deal_Name"]) for deal in deals) <= 120


def test_values_many_deals_share_are_held_once(deals: list[dict[str, Any]]) -> None:
    # A million-deal org must fit the simulator's process: equal days and amounts are one
    # object each, and owners and accounts are not copied into every deal.
    by_closing: dict[str, set[int]] = {}
    for deal in deals:
        by_closing.setdefault(deal["Closing_Date"], set()).add(id(deal["Closing_Date"]))
    assert all(len(objects) == 1 for objects in by_closing.values())
    assert len({id(deal["Owner"]) for deal in deals}) <= len({d["Owner"]["id"] for d in deals})
    assert len({id(deal["Account_Name"]) for deal in deals}) < len(deals) // 10
    # Equal amounts written differently stay as written: Zoho's JSON shows the cents.
    assert all(deal["Amount"].as_tuple().exponent == -2 for deal in deals)
