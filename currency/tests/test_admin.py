"""Admin: current rates with staleness, history filters, and audited overrides and removals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from currency.client import CurrencyFreaksError
from currency.models import ExchangeRate, RateOverride, RateSource
from currency.services import fx_rates_refresh, rate_override_set
from currency.tests.conftest import CurrencyFreaks
from currency.tests.factories import ExchangeRateFactory
from opportunities.tests.factories import OpportunityFactory
from simulator.faults import Fault

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates() -> None:
    now = timezone.now()
    ExchangeRateFactory.create(currency="SGD", units_per_usd=Decimal("1.34"), as_of=now)
    ExchangeRateFactory.create(currency="USD", units_per_usd=Decimal("1"), as_of=now)
    ExchangeRateFactory.create(
        currency="EUR", units_per_usd=Decimal("0.9"), as_of=now - timedelta(days=10)
    )
    ExchangeRateFactory.create(
        currency="INR",
        units_per_usd=Decimal("85.75"),
        as_of=now - timedelta(days=300),
        source=RateSource.SEED,
    )


def _row(content: str, currency: str) -> str:
    start = content.index(f"<td><strong>{currency}</strong></td>")
    return content[start : content.index("</tr>", start)]


def test_current_rates_show_staleness_and_flag_seed(admin_client_: Client, rates: None) -> None:
    response = admin_client_.get(reverse("admin:currency_currentrate_changelist"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "<strong>Fresh</strong>" in _row(content, "SGD")
    assert "<strong>Stale</strong>" in _row(content, "EUR")
    inr = _row(content, "INR")
    assert "<strong>Expired</strong>" in inr
    assert "seed (bundled, not a market rate)" in inr
    assert "<strong>No rate</strong>" in _row(content, "JPY")
    assert "override…" in inr


def test_a_failed_refresh_is_shown_above_the_rates(
    admin_client_: Client, currencyfreaks: CurrencyFreaks
) -> None:
    url = reverse("admin:currency_currentrate_changelist")
    assert "No refresh recorded yet" in admin_client_.get(url).content.decode()
    fx_rates_refresh()
    currencyfreaks.api.faults.fail_next(*[Fault.SERVER_ERROR] * 3)
    with pytest.raises(CurrencyFreaksError):
        fx_rates_refresh()

    content = admin_client_.get(url).content.decode()

    assert "<strong>failed</strong>: CurrencyFreaks answered HTTP 500 (3 attempts)" in content
    assert "<td>83.12</td>" in _row(content, "INR")  # the last known rates stay in use


def test_history_can_be_filtered_by_currency_source_and_date(
    admin_client_: Client, rates: None
) -> None:
    url = reverse("admin:currency_exchangerate_changelist")
    # As the admin's own date-filter links write it: an aware local midnight.
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    for query, shown in (
        ({"currency": "EUR"}, 1),
        ({"source__exact": "seed"}, 1),
        ({"as_of__gte": str(midnight - timedelta(days=7))}, 2),
    ):
        response = admin_client_.get(url, query)
        assert response.status_code == 200
        assert response.context["cl"].result_count == shown, query


def test_history_is_read_only(admin_client_: Client, rates: None) -> None:
    rate = ExchangeRate.objects.first()
    assert rate is not None
    assert admin_client_.get(reverse("admin:currency_exchangerate_add")).status_code == 403
    change = admin_client_.post(
        reverse("admin:currency_exchangerate_change", args=[rate.pk]), {"units_per_usd": "9"}
    )
    assert change.status_code == 403
    rate.refresh_from_db()
    assert rate.units_per_usd != 9


def test_an_admin_overrides_a_rate_and_it_takes_effect(admin_client_: Client, rates: None) -> None:
    deal = OpportunityFactory.create(currency="EUR", amount=Decimal("100.00"))
    add = reverse("admin:currency_rateoverride_add")
    assert 'value="EUR"' in admin_client_.get(add, {"currency": "EUR"}).content.decode()

    response = admin_client_.post(
        add, {"currency": "eur", "units_per_usd": "0.8", "reason": "Bank's quoted rate"}
    )

    assert response.status_code == 302
    override = RateOverride.objects.get()
    assert override.created_by == admin_client_.user  # type: ignore[attr-defined]
    assert (override.currency, override.units_per_usd) == ("EUR", Decimal("0.8"))
    assert (override.previous_units_per_usd, override.previous_source) == (Decimal("0.9"), "api")
    deal.refresh_from_db()
    assert (deal.amount_sgd, deal.fx_rate_source) == (Decimal("167.50"), "manual")
    page = admin_client_.get(reverse("admin:currency_currentrate_changelist")).content.decode()
    assert "active override" in _row(page, "EUR")


def test_replacing_an_override_through_the_admin_is_allowed(
    admin_client_: Client, rates: None
) -> None:
    add = reverse("admin:currency_rateoverride_add")
    for units in ("0.8", "0.85"):
        response = admin_client_.post(
            add, {"currency": "EUR", "units_per_usd": units, "reason": "Bank rate"}
        )
        assert response.status_code == 302
    assert RateOverride.objects.count() == 2
    assert RateOverride.objects.active().get().units_per_usd == Decimal("0.85")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"currency": "EU1", "units_per_usd": "0.8", "reason": "x"}, "three-letter ISO"),
        ({"currency": "EUR", "units_per_usd": "0", "reason": "x"}, "more than zero"),
        ({"currency": "EUR", "units_per_usd": "0.8", "reason": ""}, "This field is required"),
    ],
)
def test_a_bad_override_is_shown_on_the_form(
    admin_client_: Client, rates: None, data: dict[str, str], error: str
) -> None:
    response = admin_client_.post(reverse("admin:currency_rateoverride_add"), data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not RateOverride.objects.exists()


def test_an_override_is_removed_with_a_reason_never_deleted(
    admin_client_: Client, rates: None
) -> None:
    user = admin_client_.user  # type: ignore[attr-defined]
    override = rate_override_set(
        currency="EUR", units_per_usd=Decimal("0.8"), reason="Bank rate", user=user
    )
    deal = OpportunityFactory.create(currency="EUR", amount=Decimal("100.00"))
    change = admin_client_.get(reverse("admin:currency_rateoverride_change", args=[override.pk]))
    assert "Remove this override" in change.content.decode()
    assert 'name="units_per_usd"' not in change.content.decode()
    remove = reverse("admin:currency_rateoverride_remove", args=[override.pk])
    assert admin_client_.post(remove, {"removal_reason": ""}).status_code == 200  # reason needed

    response = admin_client_.post(remove, {"removal_reason": "The API caught up"})

    assert response.status_code == 302
    override.refresh_from_db()
    assert (override.removed_by, override.removal_reason) == (user, "The API caught up")
    deal.refresh_from_db()
    assert (deal.amount_sgd, deal.fx_rate_source) == (Decimal("148.89"), "api")
    delete = reverse("admin:currency_rateoverride_delete", args=[override.pk])
    assert admin_client_.post(delete, {"post": "yes"}).status_code == 403
    assert RateOverride.objects.filter(pk=override.pk).exists()
    again = admin_client_.get(remove)
    assert again.status_code == 302  # already removed: back to the list with a message


def test_viewers_and_managers_cannot_touch_rates(
    viewer_client: Client, manager_client: Client
) -> None:
    for client in (viewer_client, manager_client):
        for name in ("currentrate", "exchangerate", "rateoverride"):
            url = reverse(f"admin:currency_{name}_changelist")
            assert client.get(url).status_code in (302, 403), (client, name)
