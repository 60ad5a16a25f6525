"""From Zoho to the export: every deal in a currency CurrencyFreaks knows ends up in SGD, to
the cent, whatever currencies the org uses; a PO dated in the future is a plan, not a fact."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from pytest_django import Settings

from opportunities.models import Opportunity
from simulator.currencyfreaks import CurrencyFreaksSimulator
from simulator.server import SimulatorServer
from sync.models import SyncKind, SyncStatus, SyncTrigger
from sync.services import zoho_sync
from sync.tests.zoho_helpers import Zoho, serve_zoho

pytestmark = pytest.mark.django_db
CENT = Decimal("0.01")


@pytest.fixture
def rates(settings: Settings) -> Iterator[CurrencyFreaksSimulator]:
    api = CurrencyFreaksSimulator(clock=lambda: datetime.now(UTC))
    with SimulatorServer([api]) as server:
        settings.CURRENCYFREAKS_BASE_URL = server.url
        settings.CURRENCYFREAKS_API_KEY = api.api_key
        # Deliberately narrower than what the org uses: the refresh must ask for the rest.
        settings.FX_CURRENCIES = ["SGD", "USD", "EUR"]
        yield api


@pytest.fixture
def org() -> Iterator[Zoho]:
    with serve_zoho(deals=60, seed=11, clock=None) as zoho:
        yield zoho


def _point_at(zoho: Zoho, settings: Settings) -> None:
    for name, value in zoho.simulator.environment(zoho.server.url).items():
        setattr(settings, name, value)


def test_every_known_currency_is_converted_and_a_future_po_is_a_plan(
    org: Zoho, rates: CurrencyFreaksSimulator, settings: Settings
) -> None:
    _point_at(org, settings)
    simulator = org.simulator
    ids = [deal["id"] for deal in simulator.deals()]
    today = timezone.localdate()
    for deal_id, code in zip(ids, ("CHF", "NZD", "KRW", "XOF"), strict=False):
        simulator.modify_deal(deal_id, {"Currency": code, "Amount": Decimal("123456.78")})
    future_po = ids[4]
    simulator.modify_deal(
        future_po,
        {
            "Stage": "Needs Analysis",
            "Probability": 20,
            "Amount": Decimal("50000.00"),
            "Currency": "SGD",
            "Closing_Date": (today + timedelta(days=60)).isoformat(),
            "PO_Generation_Date": (today + timedelta(days=20)).isoformat(),
            **dict.fromkeys(
                (
                    "Proposal_Submission_date",
                    "Kick_off_Date",
                    "Invoice_Date",
                    "Payment_Received_Date",
                    "OB_Recognition_Date",
                ),
                None,
            ),
        },
    )

    run = zoho_sync(kind=SyncKind.FULL, trigger=SyncTrigger.COMMAND)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    call_command("fx_refresh", stdout=io.StringIO())
    out = io.StringIO()
    call_command("export_opportunities", stdout=out, stderr=io.StringIO())
    rows = {row["zoho_id"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}

    assert len(rows) == len(ids)
    sgd = Decimal(rates.rate("SGD") or "0")
    for zoho_id, row in rows.items():
        if row["currency"] == "XOF":  # CurrencyFreaks does not know it: never converted 1:1
            assert row["amount_sgd"] == ""
            continue
        if not row["amount"]:
            continue
        rate = Decimal(rates.rate(row["currency"]) or "0")
        expected = (Decimal(row["amount"]) * sgd / rate).quantize(CENT, ROUND_HALF_UP)
        assert row["amount_sgd"] == str(expected), (zoho_id, row["currency"], row["outcome"])
    assert {rows[deal_id]["currency"] for deal_id in ids[:3]} == {"CHF", "NZD", "KRW"}

    planned = Opportunity.objects.get(zoho_id=future_po)
    assert (planned.phase, planned.health_status) == (2, "success"), planned.health_reasons
    unknown = Opportunity.objects.get(zoho_id=ids[3])
    assert unknown.health_reasons[0]["message"].startswith("No exchange rate for XOF")


def test_a_sync_that_brings_a_currency_without_rate_asks_for_one(
    org: Zoho,
    rates: CurrencyFreaksSimulator,
    settings: Settings,
    django_capture_on_commit_callbacks: object,
) -> None:
    from pipeline_pulse.celery import app

    _point_at(org, settings)
    app.conf.task_always_eager = True
    try:
        call_command("fx_refresh", stdout=io.StringIO())
        chf = org.simulator.deals()[0]["id"]
        org.simulator.modify_deal(chf, {"Currency": "CHF", "Amount": Decimal("1000.00")})
        with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
            zoho_sync(kind=SyncKind.FULL, trigger=SyncTrigger.COMMAND)
    finally:
        app.conf.task_always_eager = False
    deal = Opportunity.objects.get(zoho_id=chf)
    # The refresh ran after the sync committed, and asked for CHF too.
    assert (deal.amount_sgd is not None, deal.fx_problem) == (True, "")
