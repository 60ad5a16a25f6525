"""Values the API, the board and the deal edit used to accept silently are 400s naming them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from pytest_django import Settings

from currency.models import RateOverride
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from opportunities.tests.syncing import sync_new

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Singapore"))
DEALS = "/api/v1/opportunities/"


def _refused(response: Any, parameter: str) -> None:
    assert response.status_code == 400, response.content
    assert parameter in response.json()["error"]["details"]


# --- Booleans in the deal filters --------------------------------------------------------------


@pytest.mark.parametrize("parameter", ["strategic", "requires_attention", "converted"])
@pytest.mark.parametrize("value", ["maybe", "1", "0", "yes", "x", "unknown"])
@pytest.mark.parametrize("path", [DEALS, "/api/v1/pipeline/summary/", "/api/v1/pipeline/health/"])
def test_a_filter_that_is_not_true_or_false_is_a_400_naming_it(
    viewer_client: Client, path: str, parameter: str, value: str
) -> None:
    _refused(viewer_client.get(path, {parameter: value}), parameter)


def test_true_false_and_empty_still_filter(viewer_client: Client) -> None:
    OpportunityFactory.create(amount=Decimal("100.00"), amount_sgd=None)
    OpportunityFactory.create(amount=Decimal("100.00"), amount_sgd=Decimal("74.00"))
    counts = {
        value: viewer_client.get(DEALS, {"converted": value}).json()["count"]
        for value in ("true", "FALSE", "")
    }
    assert counts == {"true": 1, "FALSE": 1, "": 2}


def test_the_board_says_which_filter_is_wrong(viewer_client: Client) -> None:
    response = viewer_client.get("/board/", {"strategic": "maybe"})
    assert "Use true or false." in response.content.decode()
    assert response.context["page"] is None or not response.context["page"].object_list


# --- Currencies ---------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("currency", "message"),
    [
        ("XYZ", "ISO 4217"),  # three letters, but no currency
        ("XAU", "ISO 4217"),  # gold: an ISO code, but not money a deal is in
        ("XTS", "ISO 4217"),  # the code reserved for tests
        ("BRL", "not one of this Zoho org's currencies"),  # real, but not the org's
    ],
)
def test_a_currency_must_be_iso_4217_and_one_of_the_orgs(
    manager_client: Client, settings: Settings, currency: str, message: str
) -> None:
    settings.FX_CURRENCIES = ["SGD", "USD", "EUR"]
    deal = sync_new(stage="Needs Analysis", currency="SGD")
    response = manager_client.patch(
        f"{DEALS}{deal.pk}/", {"currency": currency}, content_type="application/json"
    )
    _refused(response, "currency")
    assert message in str(response.json()["error"]["details"]["currency"])
    deal.refresh_from_db()
    assert (deal.currency, deal.pending_fields) == ("SGD", [])


@time_machine.travel(NOW, tick=False)
def test_a_currency_of_the_org_is_accepted(manager_client: Client, settings: Settings) -> None:
    settings.FX_CURRENCIES = ["SGD", "USD", "EUR"]
    OpportunityFactory.create(currency="INR")  # in use: Zoho accepted it, so the org has it
    deal = sync_new(stage="Needs Analysis", currency="SGD")
    for code in ("eur", "INR"):
        response = manager_client.patch(
            f"{DEALS}{deal.pk}/", {"currency": code}, content_type="application/json"
        )
        assert response.status_code == 200, response.content
    assert Opportunity.objects.get(pk=deal.pk).currency == "INR"


@pytest.mark.parametrize("path", [DEALS, "/api/v1/pipeline/summary/"])
def test_a_currency_filter_that_is_no_currency_is_a_400(viewer_client: Client, path: str) -> None:
    _refused(viewer_client.get(path, {"currency": "XYZ"}), "currency")


def test_an_override_of_no_currency_is_a_400(admin_client_: Client) -> None:
    response = admin_client_.post(
        "/api/v1/rate-overrides/",
        {"currency": "XYZ", "units_per_usd": "80", "reason": "Budget"},
        content_type="application/json",
    )
    _refused(response, "currency")
    assert not RateOverride.objects.exists()


# --- Dates ---------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("field", ["closing_date", "po_received_on", "revenue_recognised_on"])
@pytest.mark.parametrize("value", ["0001-01-01", "1999-12-31", "2100-01-01", "9999-12-31"])
def test_a_date_outside_the_sane_window_is_refused(
    manager_client: Client, field: str, value: str
) -> None:
    deal = sync_new(stage="Needs Analysis", closing_date=date(2027, 1, 15))
    response = manager_client.patch(
        f"{DEALS}{deal.pk}/", {field: value}, content_type="application/json"
    )
    _refused(response, field)
    assert "from 01 Jan 2000 to 31 Dec 2099" in str(response.json()["error"]["details"])
    deal.refresh_from_db()
    assert deal.pending_fields == []


@time_machine.travel(NOW, tick=False)
def test_the_window_edges_are_accepted(manager_client: Client) -> None:
    deal = sync_new(stage="Needs Analysis", closing_date=date(2027, 1, 15))
    response = manager_client.patch(
        f"{DEALS}{deal.pk}/",
        {"closing_date": "2099-12-31", "proposal_submitted_on": "2000-01-01"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/change-events/", "start"),
        ("/api/v1/change-events/", "end"),
        (DEALS, "closing_from"),
        (DEALS, "closing_to"),
    ],
)
@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31"])
def test_a_period_outside_the_window_is_a_400_naming_it(
    viewer_client: Client, path: str, parameter: str, value: str
) -> None:
    _refused(viewer_client.get(path, {parameter: value}), parameter)
