"""Exchange rates over the API: rates in effect for everyone, overrides for Admins."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from currency.models import RateOverride
from currency.services import rate_override_set
from currency.tests.factories import ExchangeRateFactory

pytestmark = pytest.mark.django_db
RATES = "/api/v1/exchange-rates/"
OVERRIDES = "/api/v1/rate-overrides/"


def test_every_role_reads_the_rates_in_effect_with_their_age(viewer_client: Client) -> None:
    ExchangeRateFactory.create(currency="SGD", units_per_usd=Decimal("1.34"))
    ExchangeRateFactory.create(currency="INR", units_per_usd=Decimal("83.2"))

    rows = {row["currency"]: row for row in viewer_client.get(RATES).json()}

    assert rows["INR"]["units_per_usd"] == "83.200000000000000000"
    assert rows["INR"]["staleness"] == "fresh"
    assert rows["INR"]["source"] == "api"
    sgd_per_inr = Decimal("1.34") / Decimal("83.2")
    assert abs(Decimal(rows["INR"]["sgd_per_unit"]) - sgd_per_inr) < Decimal("1e-12")
    assert rows["EUR"]["staleness"] == "missing"


def test_an_admin_overrides_a_rate_and_removes_the_override(admin_client_: Client) -> None:
    ExchangeRateFactory.create(currency="SGD", units_per_usd=Decimal("1.34"))
    ExchangeRateFactory.create(currency="INR", units_per_usd=Decimal("83.2"))

    created = admin_client_.post(
        OVERRIDES,
        {"currency": "inr", "units_per_usd": "80", "reason": "Budget rate"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["currency"], body["is_active"], body["previous_units_per_usd"]) == (
        "INR",
        True,
        "83.200000000000000000",
    )
    rates = {row["currency"]: row for row in admin_client_.get(RATES).json()}
    assert rates["INR"]["source"] == "manual"

    removed = admin_client_.post(
        f"{OVERRIDES}{body['id']}/remove/",
        {"reason": "Quarter closed"},
        content_type="application/json",
    )
    assert removed.status_code == 200
    assert (removed.json()["is_active"], removed.json()["removal_reason"]) == (
        False,
        "Quarter closed",
    )
    again = admin_client_.post(
        f"{OVERRIDES}{body['id']}/remove/", {"reason": "Twice"}, content_type="application/json"
    )
    assert again.status_code == 400
    assert again.json()["error"]["message"].endswith("already removed.")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"currency": "IN", "units_per_usd": "80", "reason": "x"}, "currency"),
        ({"currency": "INR", "units_per_usd": "0", "reason": "x"}, "units_per_usd"),
        ({"currency": "INR", "units_per_usd": "NaN", "reason": "x"}, "units_per_usd"),
        ({"currency": "INR", "units_per_usd": "80", "reason": "  "}, "reason"),
    ],
)
def test_a_bad_override_is_a_400_naming_the_field(
    admin_client_: Client, data: dict[str, str], field: str
) -> None:
    response = admin_client_.post(OVERRIDES, data, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == [field]
    assert not RateOverride.objects.exists()


@pytest.mark.parametrize("client_fixture", ["manager_client", "rep_client", "viewer_client"])
def test_only_admins_override(client_fixture: str, request: pytest.FixtureRequest) -> None:
    client: Client = request.getfixturevalue(client_fixture)
    override = rate_override_set(
        currency="INR",
        units_per_usd=Decimal("80"),
        reason="Budget",
        user=client.user,  # type: ignore[attr-defined]
    )
    assert client.get(OVERRIDES).json()["count"] == 1
    create = client.post(
        OVERRIDES,
        {"currency": "INR", "units_per_usd": "81", "reason": "x"},
        content_type="application/json",
    )
    remove = client.post(
        f"{OVERRIDES}{override.pk}/remove/", {"reason": "x"}, content_type="application/json"
    )
    assert (create.status_code, remove.status_code) == (403, 403)
    assert RateOverride.objects.active().get() == override
