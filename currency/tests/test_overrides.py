"""Overrides: in force at once, ahead of the API even after a refresh, and fully audited."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from currency.conversion import sgd_converter
from currency.models import ExchangeRate, RateOverride, RateSource
from currency.services import fx_rates_refresh, rate_override_remove, rate_override_set
from currency.tests.conftest import CurrencyFreaks
from currency.tests.factories import ExchangeRateFactory
from opportunities.roles import Role
from opportunities.tests.factories import OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db

API_AS_OF = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def api_rates() -> None:
    for code, units in (("SGD", "1.34"), ("USD", "1"), ("INR", "83.12"), ("EUR", "0.9")):
        ExchangeRateFactory.create(currency=code, units_per_usd=Decimal(units), as_of=API_AS_OF)


def test_an_override_applies_at_once_and_is_audited(api_rates: None) -> None:
    admin = UserFactory.create()
    inr_deal = OpportunityFactory.create(amount=Decimal("80000.00"), currency="INR")
    eur_deal = OpportunityFactory.create(amount=Decimal("100.00"), currency="EUR")
    sgd_converter()  # warm the cache: the override must invalidate it

    override = rate_override_set(
        currency="inr", units_per_usd=Decimal("80"), reason="Budget rate for FY26", user=admin
    )

    assert override.currency == "INR"
    assert override.created_by == admin
    assert override.reason == "Budget rate for FY26"
    assert (override.previous_units_per_usd, override.previous_source) == (Decimal("83.12"), "api")
    assert override.previous_as_of == API_AS_OF
    history = ExchangeRate.objects.get(source=RateSource.MANUAL)
    assert (history.currency, history.units_per_usd, history.override) == ("INR", 80, override)
    assert history.as_of == override.created_at
    inr_deal.refresh_from_db()
    assert (inr_deal.amount_sgd, inr_deal.fx_rate_source) == (Decimal("1340.00"), "manual")
    assert inr_deal.fx_rate_as_of == API_AS_OF  # the older of the SGD and INR rates
    eur_deal.refresh_from_db()
    assert eur_deal.fx_rate_source == ""  # untouched: never converted before, not INR
    conversion = sgd_converter().convert(Decimal("80000"), "INR")
    assert (conversion.amount_sgd, conversion.rate_source) == (Decimal("1340.00"), "manual")


def test_an_override_survives_a_refresh_until_removed(currencyfreaks: CurrencyFreaks) -> None:
    fx_rates_refresh()
    deal = OpportunityFactory.create(amount=Decimal("80000.00"), currency="INR")
    admin = UserFactory.create()
    override = rate_override_set(
        currency="INR", units_per_usd=Decimal("80"), reason="API glitch", user=admin
    )
    currencyfreaks.api.set_rate("INR", "90")

    fx_rates_refresh()

    deal.refresh_from_db()
    assert (deal.amount_sgd, deal.fx_rate_source) == (Decimal("1342.10"), "manual")
    assert ExchangeRate.objects.filter(currency="INR", source="api").count() == 1
    assert ExchangeRate.objects.get(currency="INR", source="api").units_per_usd == 90

    removed = rate_override_remove(override=override, reason="API is right again", user=admin)

    assert (removed.removed_by, removed.removal_reason) == (admin, "API is right again")
    assert removed.removed_at is not None
    deal.refresh_from_db()
    # 80,000 x 1.3421 / 90 = 1192.977...
    assert (deal.amount_sgd, deal.fx_rate_source) == (Decimal("1192.98"), "api")


def test_overriding_sgd_changes_every_foreign_deal(api_rates: None) -> None:
    usd = OpportunityFactory.create(amount=Decimal("100.00"), currency="USD")
    sgd = OpportunityFactory.create(amount=Decimal("100.00"), currency="SGD")
    rate_override_set(
        currency="SGD", units_per_usd=Decimal("1.5"), reason="Test", user=UserFactory.create()
    )
    usd.refresh_from_db()
    sgd.refresh_from_db()
    assert usd.amount_sgd == Decimal("150.00")
    assert (sgd.amount_sgd, sgd.fx_rate) == (Decimal("100.00"), Decimal(1))


def test_a_new_override_replaces_the_active_one_on_the_record(api_rates: None) -> None:
    first_admin, second_admin = UserFactory.create(), UserFactory.create()
    first = rate_override_set(
        currency="INR", units_per_usd=Decimal("80"), reason="Budget", user=first_admin
    )
    second = rate_override_set(
        currency="INR", units_per_usd=Decimal("81"), reason="Revised budget", user=second_admin
    )

    first.refresh_from_db()
    assert first.removed_at == second.created_at
    assert first.removed_by == second_admin
    assert first.removal_reason == "Replaced by a new override: Revised budget"
    assert (second.previous_units_per_usd, second.previous_source) == (Decimal(80), "manual")
    assert list(RateOverride.objects.active()) == [second]


def test_an_override_for_a_currency_the_api_lacks_makes_it_convertible(api_rates: None) -> None:
    deal = OpportunityFactory.create(amount=Decimal("604200"), currency="XOF")
    override = rate_override_set(
        currency="XOF",
        units_per_usd=Decimal("604.2"),
        reason="Not on CurrencyFreaks",
        user=UserFactory.create(),
    )
    assert (override.previous_units_per_usd, override.previous_source) == (None, "")
    deal.refresh_from_db()
    assert deal.amount_sgd == Decimal("1340.00")


def test_removing_twice_is_refused(api_rates: None) -> None:
    admin = UserFactory.create()
    override = rate_override_set(currency="INR", units_per_usd=Decimal(80), reason="x", user=admin)
    rate_override_remove(override=override, reason="done", user=admin)
    with pytest.raises(ValidationError, match="already removed"):
        rate_override_remove(override=override, reason="again", user=admin)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"currency": "RUPEE"}, "currency"),
        ({"currency": "1NR"}, "currency"),
        ({"units_per_usd": Decimal(0)}, "units_per_usd"),
        ({"units_per_usd": Decimal("-3")}, "units_per_usd"),
        ({"units_per_usd": Decimal("NaN")}, "units_per_usd"),
        ({"reason": "   "}, "reason"),
    ],
)
def test_bad_overrides_are_refused_and_change_nothing(
    api_rates: None, changes: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {
        "currency": "INR",
        "units_per_usd": Decimal("80"),
        "reason": "Budget",
        "user": UserFactory.create(),
    }
    with pytest.raises(ValidationError) as caught:
        rate_override_set(**(arguments | changes))
    assert field in caught.value.message_dict
    assert not RateOverride.objects.exists()


def test_removal_needs_a_reason(api_rates: None) -> None:
    admin = UserFactory.create()
    override = rate_override_set(currency="INR", units_per_usd=Decimal(80), reason="x", user=admin)
    with pytest.raises(ValidationError):
        rate_override_remove(override=override, reason=" ", user=admin)
    override.refresh_from_db()
    assert override.is_active


def test_the_newest_overrides_come_from_the_cache_until_one_is_set_or_removed(
    api_rates: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from currency import conversion
    from currency.conversion import rate_overrides_newest

    admin = UserFactory.create(role=Role.ADMIN)
    first = rate_override_set(currency="INR", units_per_usd=Decimal("83"), reason="a", user=admin)
    rate_override_set(currency="PHP", units_per_usd=Decimal("58"), reason="b", user=admin)
    assert rate_overrides_newest(["INR", "SGD"], limit=5) == [first]
    with CaptureQueriesContext(connection) as captured:
        kept = rate_overrides_newest(["INR", "SGD"], limit=5)
    assert (kept, len(captured)) == ([first], 0)
    # What is kept of the author is the names a page shows, never the password hash.
    assert {"password", "email"} <= kept[0].created_by.get_deferred_fields()

    removed = rate_override_remove(override=first, reason="back to market", user=admin)
    newer = rate_override_set(currency="INR", units_per_usd=Decimal("84"), reason="c", user=admin)
    assert rate_overrides_newest(["INR"], limit=5) == [newer, removed]
    assert rate_overrides_newest(["INR"], limit=5)[1].removal_reason == "back to market"

    # Past what the cache keeps, the database answers: nothing is cut short.
    monkeypatch.setattr(conversion, "OVERRIDES_KEPT", 1)
    conversion.effective_rates_invalidate()
    assert rate_overrides_newest(["INR"], limit=5) == [newer, removed]
