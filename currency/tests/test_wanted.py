"""Every currency the data uses gets a rate; one CurrencyFreaks does not know is not asked for
again and again; a request between schedules is rate-limited."""

from __future__ import annotations

from decimal import Decimal

import pytest

from currency.services import fx_currencies_wanted, fx_rates_refresh, fx_unknown_currencies
from currency.tests.conftest import CurrencyFreaks
from currency.triggers import currencies_without_rate, fx_rates_request
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def test_a_refresh_asks_for_the_configured_currencies_and_every_one_in_use(
    currencyfreaks: CurrencyFreaks,
) -> None:
    chf = OpportunityFactory.create(currency="CHF", amount=Decimal("100.00"))
    OpportunityFactory.create(currency="XOF", amount=Decimal("100.00"))
    OpportunityFactory.create(currency="NZD", is_deleted=True)  # not a live deal
    assert fx_currencies_wanted() == ["SGD", "USD", "EUR", "INR", "IDR", "JPY", "CHF", "XOF"]

    refresh = fx_rates_refresh()

    assert "CHF" in refresh.stored
    assert refresh.missing == ("XOF",)
    chf.refresh_from_db()
    assert chf.amount_sgd is not None
    # XOF is not asked for again until the memory of its absence expires.
    assert fx_unknown_currencies() == {"XOF"}
    assert "XOF" not in fx_currencies_wanted()


def test_a_past_day_is_fetched_for_every_currency_in_use_too(
    currencyfreaks: CurrencyFreaks,
) -> None:
    from datetime import date

    from currency.services import fx_rates_backfill

    OpportunityFactory.create(currency="CHF", amount=Decimal("100.00"))
    backfill = fx_rates_backfill(on=date(2026, 1, 15))
    assert "CHF" in backfill.stored


def test_a_request_only_asks_for_currencies_without_a_rate_and_not_twice_in_a_row(
    currencyfreaks: CurrencyFreaks, django_capture_on_commit_callbacks: object
) -> None:
    fx_rates_refresh()
    assert currencies_without_rate(["EUR", "chf", "SGD"]) == ["CHF"]
    with django_capture_on_commit_callbacks() as queued:  # type: ignore[operator]
        assert fx_rates_request(currencies=["EUR", "CHF"]) == ["CHF"]
        assert fx_rates_request(currencies=["CHF", "NZD"]) == []  # within the cooldown
    assert len(queued) == 1
    assert fx_rates_request(currencies=["EUR"]) == []
