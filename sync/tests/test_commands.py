"""`zoho_sync` and `export_opportunities` as an operator uses them."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger
from sync.services import sync_run_start
from sync.tests.fakes import FakeDealSource, deal_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_zoho(monkeypatch: pytest.MonkeyPatch) -> FakeDealSource:
    source = FakeDealSource([deal_record(n) for n in range(30)], page_size=10)
    monkeypatch.setattr("sync.zoho.ZohoClient.from_settings", classmethod(lambda cls: source))
    return source


def test_zoho_sync_prints_the_run_summary(fake_zoho: FakeDealSource) -> None:
    out = io.StringIO()
    call_command("zoho_sync", "--full", stdout=out)
    text = out.getvalue()
    assert "Full sync succeeded" in text
    assert "created" in text
    assert "30" in text
    run = SyncRun.objects.get()
    assert (run.kind, run.trigger, run.status) == (
        SyncKind.FULL,
        SyncTrigger.COMMAND,
        SyncStatus.SUCCEEDED,
    )


def test_zoho_sync_exits_non_zero_when_the_run_fails(fake_zoho: FakeDealSource) -> None:
    fake_zoho.fail_after_pages = 1
    with pytest.raises(CommandError, match="Sync failed: Zoho answered 500"):
        call_command("zoho_sync", stdout=io.StringIO())
    assert SyncRun.objects.get().status == SyncStatus.FAILED


def test_zoho_sync_refuses_while_another_runs(fake_zoho: FakeDealSource) -> None:
    sync_run_start(kind=SyncKind.FULL, trigger=SyncTrigger.SCHEDULE)
    with pytest.raises(CommandError, match="already running"):
        call_command("zoho_sync", stdout=io.StringIO())


def test_export_writes_every_live_deal_with_plain_decimals() -> None:
    OpportunityFactory.create(
        zoho_id="111",
        name="Jakarta, phase 2",
        currency="IDR",
        amount=Decimal("1500000000.00"),
        amount_sgd=Decimal("127500.00"),
        fx_rate=Decimal("0.000085000000"),
    )
    OpportunityFactory.create(zoho_id="222", amount=None, amount_sgd=None)
    OpportunityFactory.create(zoho_id="333", is_deleted=True)
    out = io.StringIO()
    call_command("export_opportunities", "--format", "csv", stdout=out, stderr=io.StringIO())
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [row["zoho_id"] for row in rows] == ["111", "222"]
    first = rows[0]
    assert first["name"] == "Jakarta, phase 2"
    assert (first["amount"], first["amount_sgd"], first["fx_rate"]) == (
        "1500000000.00",
        "127500.00",
        "0.000085000000",
    )
    assert (first["phase"], first["outcome"], first["health"]) == ("Opportunity", "Open", "Neutral")
    assert rows[1]["amount"] == rows[1]["amount_sgd"] == ""
    assert set(rows[0]) >= {
        "zoho_id",
        "name",
        "account",
        "owner",
        "stage",
        "phase",
        "outcome",
        "health",
        "probability",
        "currency",
        "amount",
        "amount_sgd",
        "fx_rate",
        "fx_rate_date",
        "closing_date",
    }


def test_export_round_trips_what_a_sync_stored(fake_zoho: FakeDealSource) -> None:
    call_command("zoho_sync", stdout=io.StringIO())
    out = io.StringIO()
    call_command("export_opportunities", stdout=out, stderr=io.StringIO())
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == Opportunity.objects.count() == 30
    assert {row["amount"] for row in rows} == {
        str(deal.amount) for deal in fake_zoho.deals.values()
    }
