"""Zoho record JSON to typed records: every accepted shape, every rejected value."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from opportunities.deal_fields import CRM_FIELDS
from sync.zoho.field_map import FieldMap, FieldMapError, parse_field_map_setting
from sync.zoho.parsing import DealParser, format_zoho_datetime, parse_deleted
from sync.zoho.records import DealRecord, MalformedDeal

FIELDS = FieldMap()


def zoho_deal(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": "5725767000000524157",
        "Deal_Name": "Straits Bank - Data & AI",
        "Amount": Decimal("125000.50"),
        "Currency": "USD",
        "Exchange_Rate": Decimal("0.745"),
        "Stage": "Proposal submitted (60)",
        "Probability": 60,
        "Closing_Date": "2026-06-30",
        "Owner": {"name": "Grace Lee", "id": "4876876000000200007", "email": "grace@x.example"},
        "Account_Name": {"name": "Straits Bank", "id": "3652397000000300031"},
        "Type": "New Business",
        "Lead_Source": "Partner",
        "Created_Time": "2026-01-05T10:15:00+08:00",
        "Modified_Time": "2026-02-20T16:45:09+05:30",
        "Pipeline": "Standard (Standard)",
        "Region": "Singapore",
        "Solution_Type": "Data & AI",
        "Type_of_Funding": "Government grant (PSG)",
        "Market_Segment": "Enterprise",
        "Proposal_Submission_date": "2026-02-01",
        "PO_Generation_Date": None,
        "Kick_off_Date": None,
        "Invoice_Date": None,
        "Payment_Received_Date": None,
        "OB_Recognition_Date": None,
    }
    record.update(overrides)
    return record


def parse(**overrides: Any) -> DealRecord | MalformedDeal:
    return DealParser(field_map=FIELDS, home_currency="SGD").parse(zoho_deal(**overrides))


def test_a_well_formed_deal_becomes_a_deal_record() -> None:
    deal = parse()

    assert isinstance(deal, DealRecord)
    assert deal.amount == Decimal("125000.50")
    assert deal.closing_date == date(2026, 6, 30)
    assert deal.proposal_submitted_on == date(2026, 2, 1)
    assert deal.zoho_modified_time == datetime(2026, 2, 20, 11, 15, 9, tzinfo=UTC)
    assert deal.owner is not None
    assert deal.owner.email == "grace@x.example"
    assert deal.account is not None
    assert deal.account.name == "Straits Bank"
    assert (deal.territory, deal.service_line) == ("Singapore", "Data & AI")
    assert deal.funding_type == "Government grant (PSG)"


@pytest.mark.parametrize(
    "pipeline",
    [
        "Standard " + "x" * 200,
        {"name": "Enterprise", "id": "5725767000000091023"},
        {"id": 42},
        ["Standard"],
        True,
    ],
)
def test_the_pipeline_field_is_not_read_so_no_value_of_it_marks_a_deal_malformed(
    pipeline: object,
) -> None:
    deal = parse(Pipeline=pipeline)

    assert isinstance(deal, DealRecord)
    assert "Pipeline" not in FIELDS.fields_parameter().split(",")


def test_any_field_but_id_and_modified_time_may_be_null() -> None:
    nulls = {
        name: None
        for name in FIELDS.api_names.values()
        if name not in ("Modified_Time", "Currency")
    }
    deal = parse(**nulls, Currency=None)

    assert isinstance(deal, DealRecord)
    assert (deal.name, deal.stage, deal.territory) == ("", "", "")
    assert (deal.amount, deal.owner, deal.account, deal.closing_date) == (None, None, None, None)
    assert deal.currency == "SGD"  # the home currency when Zoho sends none


def test_numbers_may_arrive_as_integers_or_numeric_text() -> None:
    deal = parse(Amount=250000, Probability=Decimal("40.0"), Exchange_Rate="62.1")

    assert isinstance(deal, DealRecord)
    assert (deal.amount, deal.probability, deal.zoho_exchange_rate) == (
        Decimal(250000),
        40,
        Decimal("62.1"),
    )


def test_a_lower_case_currency_code_is_normalised() -> None:
    deal = parse(Currency="inr")

    assert isinstance(deal, DealRecord)
    assert deal.currency == "INR"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"Closing_Date": "30/06/2026"}, "Closing_Date '30/06/2026' is not a date (YYYY-MM-DD)"),
        ({"Invoice_Date": "2026-13-01"}, "Invoice_Date '2026-13-01' is not a real date"),
        ({"Amount": "lots"}, "Amount 'lots' is not a number"),
        ({"Amount": True}, "Amount True is not a number"),
        ({"Amount": Decimal("NaN")}, "Amount NaN is not a finite number"),
        ({"Amount": Decimal("-1")}, "Amount -1 is negative"),
        ({"Amount": Decimal("1E+17")}, "Amount 1E+17 is too large to store"),
        ({"Probability": 101}, "Probability 101 is not a whole number from 0 to 100"),
        ({"Probability": Decimal("12.5")}, "Probability 12.5 is not a whole number from 0 to 100"),
        ({"Currency": "US$"}, "Currency 'US$' is not a three-letter ISO 4217 code"),
        ({"Exchange_Rate": 0}, "Exchange_Rate 0 is not a positive rate"),
        ({"Deal_Name": "x" * 121}, "Deal_Name is 121 characters long; at most 120 are allowed"),
        ({"Region": ["SG", "MY"]}, "Region ['SG', 'MY'] is not text"),
        ({"Owner": "Grace"}, "Owner 'Grace' is not a user"),
        ({"Owner": {"name": "Grace"}}, "Owner has no valid id (None)"),
        ({"Account_Name": {"name": "X", "id": 42}}, "Account_Name has no valid id (42)"),
        ({"Created_Time": "2026-01-05T10:15:00"}, "Created_Time '2026-01-05T10:15:00' has no UTC"),
        ({"id": None}, "id is missing"),
        ({"id": "DEAL-1"}, "id 'DEAL-1' is not a Zoho id"),
        ({"Modified_Time": None}, "Modified_Time is missing"),
        ({"Modified_Time": "yesterday"}, "Modified_Time 'yesterday' is not an ISO 8601"),
    ],
)
def test_a_bad_value_makes_a_malformed_deal_with_a_reason(
    overrides: dict[str, Any], reason: str
) -> None:
    deal = parse(**overrides)

    assert isinstance(deal, MalformedDeal)
    assert deal.reason.startswith(reason)


def test_every_problem_of_a_record_is_reported_at_once() -> None:
    deal = parse(Amount=Decimal("-5"), Closing_Date="soon")

    assert isinstance(deal, MalformedDeal)
    assert deal.zoho_id == "5725767000000524157"
    assert deal.zoho_modified_time == datetime(2026, 2, 20, 11, 15, 9, tzinfo=UTC)
    assert "Amount -5 is negative" in deal.reason
    assert "Closing_Date 'soon' is not a date" in deal.reason


def test_a_record_that_is_not_an_object_is_malformed() -> None:
    deal = DealParser(field_map=FIELDS, home_currency="SGD").parse(["not", "a", "deal"])

    assert isinstance(deal, MalformedDeal)
    assert deal.zoho_id == ""


def test_org_specific_fields_follow_the_field_map() -> None:
    field_map = FieldMap.with_overrides(
        parse_field_map_setting("territory=Sales_Region,kickoff_on=Kickoff")
    )
    raw = zoho_deal(Sales_Region="ASEAN", Kickoff="2026-03-01", Region="ignored")

    deal = DealParser(field_map=field_map, home_currency="SGD").parse(raw)

    assert isinstance(deal, DealRecord)
    assert (deal.territory, deal.kickoff_on) == ("ASEAN", date(2026, 3, 1))
    assert "Sales_Region" in field_map.fields_parameter().split(",")
    assert "Region" not in field_map.fields_parameter().split(",")


def test_the_field_map_setting_takes_json_or_pairs() -> None:
    assert parse_field_map_setting('{"territory": "Zone"}') == {"territory": "Zone"}
    assert parse_field_map_setting(" territory = Zone , invoiced_on=Inv_Date ") == {
        "territory": "Zone",
        "invoiced_on": "Inv_Date",
    }
    assert parse_field_map_setting("") == {}


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("amount=Total", "can only rename the org-specific fields"),
        ("territory=Sales Region", "is not a Zoho API name"),
        ("territory", "is not attr=Api_Name"),
        ("{bad json", "is not valid JSON"),
        ("territory=Solution_Type", "maps two attributes to Solution_Type"),
    ],
)
def test_a_wrong_field_map_setting_is_refused(setting: str, message: str) -> None:
    with pytest.raises(FieldMapError, match=message):
        FieldMap.with_overrides(parse_field_map_setting(setting))


def test_the_default_field_map_asks_for_every_field_once() -> None:
    fields = FIELDS.fields_parameter().split(",")

    assert len(fields) == len(set(fields)) == len(CRM_FIELDS)
    assert {"Deal_Name", "Modified_Time", "Region", "OB_Recognition_Date"} <= set(fields)


def test_a_deleted_record_is_parsed_or_refused() -> None:
    deleted = parse_deleted(
        {
            "deleted_by": None,
            "id": "5725767000000524157",
            "display_name": None,
            "type": "permanent",
            "created_by": None,
            "deleted_time": "2026-02-21T09:00:00+05:30",
        }
    )

    assert deleted.zoho_id == "5725767000000524157"
    assert deleted.deletion_type == "permanent"
    assert deleted.deleted_time == datetime(2026, 2, 21, 3, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="is not a Zoho id"):
        parse_deleted({"id": None, "deleted_time": "2026-02-21T09:00:00+05:30"})
    with pytest.raises(ValueError, match="not an ISO 8601"):
        parse_deleted({"id": "1", "deleted_time": "Feb 21"})


def test_times_are_sent_with_the_singapore_offset() -> None:
    moment = datetime(2026, 2, 20, 23, 30, tzinfo=timezone(timedelta(hours=-5)))

    assert format_zoho_datetime(moment) == "2026-02-21T12:30:00+08:00"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_zoho_datetime(datetime(2026, 2, 20))  # noqa: DTZ001 - the naive case itself
