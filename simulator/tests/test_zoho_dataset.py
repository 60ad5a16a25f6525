"""The simulator's data set: deterministic, and as consistent as a well-kept Zoho org."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from simulator.dataset import CURRENCIES, STAGES_BY_NAME, generate_deals

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)


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
    for deal in deals:
        assert deal["Probability"] == STAGES_BY_NAME[deal["Stage"]].probability
    assert 0.1 < stages["Closed Lost"] / len(deals) < 0.2


def test_milestones_are_consistent_with_each_stage(deals: list[dict[str, Any]]) -> None:
    chain = ("PO_Generation_Date", "Kick_off_Date", "Invoice_Date", "Payment_Received_Date")
    for deal in deals:
        kind = STAGES_BY_NAME[deal["Stage"]].kind
        proposal = day(deal["Proposal_Submission_date"])
        po = day(deal["PO_Generation_Date"])
        if kind in ("proposal", "won"):
            assert proposal is not None
        if kind == "open":
            assert proposal is None
        assert (po is not None) == (kind == "won")
        dates = [day(deal[name]) for name in (*chain, "OB_Recognition_Date")]
        reached = [value for value in dates if value is not None]
        assert dates[: len(reached)] == reached  # no gaps: paid implies invoiced, ...
        assert reached == sorted(reached)
        assert all(value <= TODAY for value in reached)
        if proposal is not None:
            assert proposal <= TODAY
            assert po is None or proposal <= po
    won = [deal for deal in deals if deal["Stage"] == "Closed Won"]
    assert 0 < sum(1 for deal in won if deal["Payment_Received_Date"]) < len(won)


def test_owners_accounts_and_org_fields_are_filled(deals: list[dict[str, Any]]) -> None:
    owners = {deal["Owner"]["email"] for deal in deals}

    assert len(owners) == 14
    assert all(email.endswith("@pulse-demo.example.com") for email in owners)
    assert len({deal["Account_Name"]["id"] for deal in deals}) > 150
    for field in ("Region", "Solution_Type", "Type_of_Funding", "Market_Segment"):
        assert len({deal[field] for deal in deals}) >= 4, field
    pipelines = Counter(type(deal["Pipeline"]).__name__ for deal in deals)
    assert set(pipelines) == {"str", "dict"}  # both shapes Zoho has sent
    assert max(len(deal["Deal_Name"]) for deal in deals) <= 120
