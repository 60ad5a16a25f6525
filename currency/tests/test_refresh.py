"""Refresh, backfill and seed: what is stored, what is re-converted, and what a failure keeps."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from pytest_django import Settings

from currency.client import (
    CurrencyFreaksBadResponse,
    CurrencyFreaksError,
    CurrencyFreaksNotConfigured,
    CurrencyFreaksUnavailable,
)
from currency.conversion import sgd_converter
from currency.models import ExchangeRate, RateSource
from currency.seed import SEED_AS_OF
from currency.services import (
    fx_rates_backfill,
    fx_rates_last_refresh,
    fx_rates_refresh,
    fx_rates_seed,
)
from currency.tests.conftest import SIMULATOR_NOW, CurrencyFreaks
from currency.tests.factories import ExchangeRateFactory
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from simulator.faults import Fault

pytestmark = pytest.mark.django_db

LATEST_AS_OF = SIMULATOR_NOW.replace(second=0)


def _stored() -> list[tuple[str, Decimal, datetime, str]]:
    return list(
        ExchangeRate.objects.order_by("currency", "as_of").values_list(
            "currency", "units_per_usd", "as_of", "source"
        )
    )


def _fx(deal: Opportunity) -> tuple[Any, ...]:
    deal.refresh_from_db()
    return (deal.amount_sgd, deal.fx_rate, deal.fx_rate_as_of, deal.fx_rate_source, deal.fx_note)


def test_refresh_stores_every_rate_and_reconverts_open_deals(
    currencyfreaks: CurrencyFreaks,
) -> None:
    open_deal = OpportunityFactory.create(amount=Decimal("100000.00"), currency="INR")
    won = OpportunityFactory.create(amount=Decimal("100.00"), currency="EUR", outcome="won")
    deleted = OpportunityFactory.create(amount=Decimal("100.00"), currency="EUR", is_deleted=True)

    refresh = fx_rates_refresh()

    assert refresh.as_of == LATEST_AS_OF
    assert refresh.stored == ("EUR", "IDR", "INR", "JPY", "SGD", "USD")
    assert refresh.missing == ()
    assert refresh.reconverted == 2  # the open deal, and the won one closing after the rate
    stored = {row[0]: row for row in _stored()}
    assert stored["SGD"] == ("SGD", Decimal("1.3421"), LATEST_AS_OF, "api")
    assert stored["USD"][1] == Decimal(1)
    assert _fx(open_deal) == (
        Decimal("1614.65"),
        Decimal("0.016146535130"),
        LATEST_AS_OF,
        "api",
        "",
    )
    # Won, closing in the future: locked to the newest rate until its closing day's is known.
    assert _fx(won)[:3] == (Decimal("145.88"), Decimal("1.458804347826"), LATEST_AS_OF)
    assert _fx(deleted)[0] is None


def test_refresh_invalidates_the_cached_rates(currencyfreaks: CurrencyFreaks) -> None:
    fx_rates_refresh()
    assert sgd_converter().convert(Decimal(100), "EUR").amount_sgd == Decimal("145.88")
    currencyfreaks.api.set_rate("EUR", "0.5")
    currencyfreaks.server.reset_calls()

    fx_rates_refresh()  # the same as-of again: the row is refreshed, not duplicated

    assert sgd_converter().convert(Decimal(100), "EUR").amount_sgd == Decimal("268.42")
    assert ExchangeRate.objects.filter(currency="EUR").count() == 1


def test_a_currency_missing_from_the_answer_keeps_its_last_rate(
    currencyfreaks: CurrencyFreaks,
) -> None:
    earlier = datetime(2026, 3, 1, tzinfo=UTC)
    ExchangeRateFactory.create(currency="JPY", units_per_usd=Decimal("149"), as_of=earlier)
    currencyfreaks.api.remove_currency("JPY")
    deal = OpportunityFactory.create(amount=Decimal("1000000"), currency="JPY")

    refresh = fx_rates_refresh()

    assert refresh.missing == ("JPY",)
    jpy = sgd_converter().latest_rate("JPY")
    assert jpy is not None
    assert (jpy.units_per_usd, jpy.as_of) == (Decimal(149), earlier)
    amount_sgd, _, as_of, source, _ = _fx(deal)
    assert (amount_sgd, as_of, source) == (Decimal("9007.38"), earlier, "api")


@pytest.mark.parametrize(
    ("fault", "payload", "error"),
    [
        (Fault.UNAUTHORIZED, None, CurrencyFreaksError),
        (Fault.RATE_LIMITED, None, CurrencyFreaksError),
        (Fault.SERVER_ERROR, None, CurrencyFreaksUnavailable),
        (Fault.TIMEOUT, None, CurrencyFreaksUnavailable),
        (Fault.MALFORMED, None, CurrencyFreaksBadResponse),
        (None, {"date": "2026-03-10 05:00:00+00", "base": "USD"}, CurrencyFreaksBadResponse),
        (
            None,
            {"date": "2026-03-10 05:00:00+00", "rates": {"SGD": "0"}},
            CurrencyFreaksBadResponse,
        ),
        (
            None,
            {"date": "2026-03-10 05:00:00+00", "rates": {"SGD": "x"}},
            CurrencyFreaksBadResponse,
        ),
        (None, {"date": "10/03/2026", "rates": {"SGD": "1.5"}}, CurrencyFreaksBadResponse),
    ],
)
def test_a_failed_refresh_changes_nothing(
    currencyfreaks: CurrencyFreaks,
    fault: Fault | None,
    payload: dict[str, Any] | None,
    error: type[CurrencyFreaksError],
) -> None:
    deal = OpportunityFactory.create(amount=Decimal("100.00"), currency="EUR")
    fx_rates_refresh()
    rates_before, deal_before = _stored(), _fx(deal)
    if fault is not None:
        currencyfreaks.api.faults.fail_next(*[fault] * 3)
    else:
        currencyfreaks.api.respond_next(payload)
    currencyfreaks.api.set_rate("EUR", "0.5")  # what a successful refresh would have stored

    with pytest.raises(error):
        fx_rates_refresh()

    assert _stored() == rates_before
    assert _fx(deal) == deal_before
    assert sgd_converter().convert(Decimal(100), "EUR").amount_sgd == Decimal("145.88")


def test_backfill_stores_a_past_day_and_relocks_won_deals(
    currencyfreaks: CurrencyFreaks,
) -> None:
    fx_rates_refresh()
    won = OpportunityFactory.create(
        amount=Decimal("1000.00"), currency="EUR", outcome="won", closing_date=date(2026, 2, 2)
    )
    # As the sync would have locked it before the backfill: with a later rate, flagged.
    locked = sgd_converter().convert(won.amount, "EUR", locked_on=won.closing_date)
    assert locked.note.startswith("Rate from after the closing date")

    refresh = fx_rates_backfill(on=date(2026, 2, 2))

    assert refresh.as_of == datetime(2026, 2, 2, tzinfo=UTC)
    assert refresh.reconverted == 1
    sgd = Decimal(currencyfreaks.api.rate("SGD", date(2026, 2, 2)) or "0")
    eur = Decimal(currencyfreaks.api.rate("EUR", date(2026, 2, 2)) or "0")
    amount_sgd, _, as_of, source, note = _fx(won)
    assert amount_sgd == (Decimal(1000) * sgd / eur).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert (as_of, source, note) == (datetime(2026, 2, 2, tzinfo=UTC), "api", "")
    # The open deals still use the latest rates, not the backfilled ones.
    latest = sgd_converter().latest_rate("SGD")
    assert latest is not None
    assert latest.as_of == LATEST_AS_OF


def test_refresh_without_a_key_fetches_nothing(settings: Settings) -> None:
    settings.CURRENCYFREAKS_API_KEY = ""
    with pytest.raises(CurrencyFreaksNotConfigured):
        fx_rates_refresh()
    assert _stored() == []


def test_seed_fills_only_currencies_nothing_is_known_about(settings: Settings) -> None:
    settings.FX_CURRENCIES = ["SGD", "USD", "INR", "XOF"]
    ExchangeRateFactory.create(currency="INR", units_per_usd=Decimal("83"))
    deal = OpportunityFactory.create(amount=Decimal("1000.00"), currency="USD")

    assert fx_rates_seed() == ("SGD", "USD")  # INR has a rate; XOF has no seed
    assert fx_rates_seed() == ()  # nothing left to seed

    assert ExchangeRate.objects.filter(source=RateSource.SEED).count() == 2
    amount_sgd, _, as_of, source, note = _fx(deal)
    assert (amount_sgd, as_of, source) == (Decimal("1365.50"), SEED_AS_OF, "seed")
    assert note == "Seed rate: bundled fallback, not a market rate"


def test_api_rates_replace_seed_rates(currencyfreaks: CurrencyFreaks) -> None:
    fx_rates_seed()
    deal = OpportunityFactory.create(amount=Decimal("1000.00"), currency="USD")

    fx_rates_refresh()

    amount_sgd, _, _, source, note = _fx(deal)
    assert (amount_sgd, source, note) == (Decimal("1342.10"), "api", "")


def test_the_outcome_of_the_last_refresh_is_remembered(currencyfreaks: CurrencyFreaks) -> None:
    assert fx_rates_last_refresh() is None

    fx_rates_refresh()
    success = fx_rates_last_refresh()
    assert success is not None
    assert (success.succeeded, success.message) == (True, "6 rates as of 2026-03-10 12:30")

    currencyfreaks.api.faults.fail_next(Fault.UNAUTHORIZED)
    with pytest.raises(CurrencyFreaksError):
        fx_rates_refresh()
    failure = fx_rates_last_refresh()
    assert failure is not None
    assert not failure.succeeded
    assert failure.message.startswith("CurrencyFreaks rejected the API key")
    assert failure.at >= success.at
