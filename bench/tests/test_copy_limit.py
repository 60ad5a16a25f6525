"""The COPY limit of the sync benchmark: the rows it spools and that COPY really loads them."""

from __future__ import annotations

import io

import psycopg
import pytest

from bench.copy_limit import copy_columns, copy_seconds, spool_rows
from currency.services import fx_rates_seed
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


def test_the_spooled_rows_are_the_synced_rows_every_column_but_the_id(
    synced: list[DealRecord],
) -> None:
    spooled = io.BytesIO()

    rows = spool_rows(spooled)

    columns = copy_columns()
    assert "id" not in columns
    assert {"zoho_id", "amount_sgd", "health_status", "phase"} <= set(columns)
    assert rows == len(synced)
    lines = spooled.getvalue().decode().splitlines()
    first = dict(zip(columns, lines[0].split("\t"), strict=True))
    stored = Opportunity.objects.order_by("id").first()
    assert stored is not None
    assert first["zoho_id"] == stored.zoho_id
    assert first["amount_sgd"] == str(stored.amount_sgd)
    assert first["health_status"] == stored.health_status


def test_copy_loads_the_rows_and_rolls_them_back(synced: list[DealRecord]) -> None:
    spooled = io.BytesIO()
    spool_rows(spooled)
    before = set(Opportunity.objects.values_list("id", "zoho_id"))

    assert copy_seconds(spooled) > 0
    assert set(Opportunity.objects.values_list("id", "zoho_id")) == before

    # COPY really writes each row: a row the table refuses makes it fail.
    currency = copy_columns().index("currency")
    lines = spooled.getvalue().splitlines(keepends=True)
    cells = lines[-1].split(b"\t")
    cells[currency] = b"usd"
    broken = io.BytesIO(b"".join([*lines[:-1], b"\t".join(cells)]))
    with pytest.raises(psycopg.errors.CheckViolation):
        copy_seconds(broken)
    assert set(Opportunity.objects.values_list("id", "zoho_id")) == before
