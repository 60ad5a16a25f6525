"""The field catalogue is the one list: records, model, Zoho map, health and exports follow it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from opportunities.deal_fields import (
    CRM_FIELDS,
    EDITABLE_FIELDS,
    HEALTH_INPUT_FIELDS,
    MILESTONE_FIELDS,
    VALUE_FIELDS,
)
from opportunities.exports import EXPORT_COLUMNS, HEADERS, opportunities_write_csv
from opportunities.health_rules import DEAL_FACTS, DealFacts
from opportunities.models import Opportunity
from opportunities.records import DEAL_RECORD_FIELDS
from opportunities.tests.factories import OpportunityFactory
from sync.zoho.field_map import FieldMap


def test_records_and_the_model_have_every_catalogued_field() -> None:
    names = tuple(field.name for field in CRM_FIELDS)
    assert names == DEAL_RECORD_FIELDS
    model_fields = {field.name for field in Opportunity._meta.get_fields()}
    assert set(names) <= model_fields


def test_the_zoho_field_map_asks_for_every_catalogued_field_by_default() -> None:
    field_map = FieldMap()
    assert {name: field_map.api_name(name) for name in field_map.api_names} == {
        field.name: field.zoho_api_name for field in CRM_FIELDS
    }


def test_derived_lists() -> None:
    assert MILESTONE_FIELDS == (
        "proposal_submitted_on",
        "po_received_on",
        "kickoff_on",
        "invoiced_on",
        "payment_received_on",
        "revenue_recognised_on",
    )
    # product.md: milestone dates, closing date, probability, stage, amount and currency.
    assert set(EDITABLE_FIELDS) == {
        *MILESTONE_FIELDS,
        "closing_date",
        "probability",
        "stage",
        "amount",
        "currency",
    }
    assert set(HEALTH_INPUT_FIELDS) <= set(DEAL_FACTS)
    assert set(DEAL_FACTS) == set(DealFacts.__dataclass_fields__)
    assert "account" not in VALUE_FIELDS
    assert "owner" not in VALUE_FIELDS


def test_every_crm_field_is_exported_once_under_its_own_name() -> None:
    assert len(HEADERS) == len(set(HEADERS))
    assert {field.name for field in CRM_FIELDS} <= set(HEADERS)
    assert HEADERS[:5] == ("zoho_id", "name", "account", "owner", "owner_email")
    assert {"phase", "health", "amount_sgd", "fx_rate_date"} <= set(HEADERS)
    assert [column.header for column in EXPORT_COLUMNS] == list(HEADERS)


@pytest.mark.django_db
def test_exported_values_are_plain_numbers_iso_dates_and_singapore_times() -> None:
    OpportunityFactory.create(
        kickoff_on=date(2026, 3, 4),
        probability=40,
        amount=Decimal("1234.50"),
        zoho_modified_time=datetime(2026, 3, 4, 17, 0, tzinfo=UTC),
        fx_rate_as_of=datetime(2026, 3, 4, 17, 0, tzinfo=UTC),
        health_reasons=[{"message": "One"}, {"message": "Two"}],
    )
    out = io.StringIO()
    assert opportunities_write_csv(Opportunity.objects.all(), out) == 1
    (row,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert (row["kickoff_on"], row["probability"], row["amount"]) == ("2026-03-04", "40", "1234.50")
    assert row["zoho_modified_time"] == "2026-03-05T01:00:00+08:00"
    assert row["fx_rate_date"] == "2026-03-05"  # the Singapore day of the rate
    assert row["health_reasons"] == "One; Two"
    assert row["payment_received_on"] == ""
