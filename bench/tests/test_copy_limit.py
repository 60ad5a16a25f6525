"""The COPY limit of the sync benchmark: the rows it builds and that COPY really loads them."""

from __future__ import annotations

from dataclasses import replace

import psycopg
import pytest

from bench.copy_limit import copy_rows, copy_seconds
from currency.services import fx_rates_seed
from opportunities.deal_fields import VALUE_FIELDS
from opportunities.models import Opportunity
from opportunities.records import DealRecord
from sync.models import SyncKind, SyncStatus, SyncTrigger
from sync.services import zoho_sync
from sync.tests.fakes import FakeDealSource, deal_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced() -> list[DealRecord]:
    fx_rates_seed()
    deals = [deal_record(number) for number in range(4)]
    run = zoho_sync(kind=SyncKind.FULL, trigger=SyncTrigger.COMMAND, source=FakeDealSource(deals))
    assert run.status == SyncStatus.SUCCEEDED, run.error
    return deals


def test_copy_rows_are_the_synced_rows_with_zoho_values_as_pulled(synced: list[DealRecord]) -> None:
    pulled = [replace(synced[0], name="Renamed in Zoho"), *synced[1:]]

    columns, rows = copy_rows(pulled)

    assert "id" not in columns
    assert len(rows) == len(synced)
    by_zoho_id = {
        row[columns.index("zoho_id")]: dict(zip(columns, row, strict=True)) for row in rows
    }
    first = by_zoho_id[synced[0].zoho_id]
    assert first["name"] == "Renamed in Zoho"
    stored = Opportunity.objects.get(zoho_id=synced[1].zoho_id)
    second = by_zoho_id[synced[1].zoho_id]
    assert second["amount_sgd"] == stored.amount_sgd
    assert second["health_status"] == stored.health_status
    assert {name: second[name] for name in VALUE_FIELDS} == {
        name: getattr(synced[1], name) for name in VALUE_FIELDS
    }


def test_copy_rows_refuses_a_deal_the_sync_did_not_store(synced: list[DealRecord]) -> None:
    with pytest.raises(RuntimeError, match="did not store"):
        copy_rows([*synced, deal_record(99)])


def test_copy_loads_the_rows_and_rolls_them_back(synced: list[DealRecord]) -> None:
    columns, rows = copy_rows(synced)
    before = set(Opportunity.objects.values_list("id", "zoho_id"))

    assert copy_seconds(columns, rows) > 0
    assert set(Opportunity.objects.values_list("id", "zoho_id")) == before

    # COPY really writes each row: a row the table refuses makes it fail.
    currency = columns.index("currency")
    broken = [*rows[:-1], (*rows[-1][:currency], "usd", *rows[-1][currency + 1 :])]
    with pytest.raises(psycopg.errors.CheckViolation):
        copy_seconds(columns, broken)
    assert set(Opportunity.objects.values_list("id", "zoho_id")) == before
