"""SGD conversion: exact Decimal arithmetic, rounding, identity, missing rates, query budget."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from currency.conversion import (
    RatePoint,
    SgdConverter,
    effective_rates_invalidate,
    sgd_converter,
)
from currency.models import RateSource
from currency.tests.factories import ExchangeRateFactory, RateOverrideFactory

AS_OF = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)

# Ranges wider than any real currency (KWD ~0.3 to VND ~25,000 per USD) and deal size.
amounts = st.decimals(min_value=0, max_value=Decimal("999999999.99"), places=2)
rates = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50000"), places=18)


def _converter(**units_per_usd: str | Decimal) -> SgdConverter:
    return SgdConverter(
        {
            code: RatePoint(Decimal(value), AS_OF, RateSource.API)
            for code, value in units_per_usd.items()
        }
    )


def _half_up(value: Fraction, places: int) -> Decimal:
    """The oracle: a true rational value, rounded half-up."""
    return Decimal(math.floor(value * 10**places + Fraction(1, 2))).scaleb(-places)


def _exact_half_up_cents(amount: Decimal, sgd: Decimal, foreign: Decimal) -> Decimal:
    return _half_up(Fraction(amount) * Fraction(sgd) / Fraction(foreign), 2)


@given(amount=amounts, sgd=rates, foreign=rates)
def test_conversion_is_exact_and_rounded_half_up_to_cents(
    amount: Decimal, sgd: Decimal, foreign: Decimal
) -> None:
    conversion = _converter(SGD=sgd, EUR=foreign).convert(amount, "EUR")

    assert isinstance(conversion.amount_sgd, Decimal)
    assert conversion.amount_sgd == _exact_half_up_cents(amount, sgd, foreign)
    assert conversion.amount_sgd.as_tuple().exponent == -2
    assert conversion.rate == _half_up(Fraction(sgd) / Fraction(foreign), 12)
    assert (conversion.rate_source, conversion.rate_as_of, conversion.note) == ("api", AS_OF, "")


@given(amount=amounts)
def test_sgd_converts_at_exactly_one_without_any_rate(amount: Decimal) -> None:
    conversion = SgdConverter({}).convert(amount, "SGD")
    assert conversion.amount_sgd == amount
    assert conversion.rate == Decimal(1)
    assert (conversion.rate_as_of, conversion.rate_source, conversion.note) == (None, "", "")


@given(first=amounts, second=amounts, sgd=rates, foreign=rates)
def test_conversion_is_monotonic_in_the_amount(
    first: Decimal, second: Decimal, sgd: Decimal, foreign: Decimal
) -> None:
    converter = _converter(SGD=sgd, INR=foreign)
    low, high = sorted((first, second))
    low_sgd = converter.convert(low, "INR").amount_sgd
    high_sgd = converter.convert(high, "INR").amount_sgd
    assert low_sgd is not None
    assert high_sgd is not None
    assert low_sgd <= high_sgd


def test_known_amounts() -> None:
    converter = _converter(SGD="1.3421", INR="83.12", USD="1", IDR="15800")
    assert converter.convert(Decimal("1000.00"), "USD").amount_sgd == Decimal("1342.10")
    # 100,000 x 1.3421 / 83.12 = 1614.653513...
    assert converter.convert(Decimal("100000.00"), "INR").amount_sgd == Decimal("1614.65")
    assert converter.convert(Decimal("250000000"), "IDR").amount_sgd == Decimal("21235.76")
    assert converter.convert(Decimal("1"), "INR").rate == Decimal("0.016146535130")


def test_a_tie_rounds_half_up_not_to_even() -> None:
    converter = _converter(SGD="1.5", USD="1")
    # 0.03 x 1.5 = 0.045 exactly: half-up gives 0.05 (banker's rounding would give 0.04).
    assert converter.convert(Decimal("0.03"), "USD").amount_sgd == Decimal("0.05")
    assert converter.convert(Decimal("0.01"), "USD").amount_sgd == Decimal("0.02")


def test_precision_beyond_decimals_default_context() -> None:
    # 18-decimal rates and a 16-digit amount: the product has more than 28 digits.
    sgd, foreign = Decimal("1.342112345678901234"), Decimal("0.927860545127434913")
    amount = Decimal("9999999999.99")
    converted = _converter(SGD=sgd, EUR=foreign).convert(amount, "EUR")
    assert converted.amount_sgd == _exact_half_up_cents(amount, sgd, foreign)


def test_codes_are_read_case_and_space_insensitively() -> None:
    converter = _converter(SGD="1.34", EUR="0.9")
    assert converter.convert(Decimal(9), " eur ").amount_sgd == Decimal("13.40")
    assert converter.convert(Decimal(9), "sgd").amount_sgd == Decimal("9.00")


@pytest.mark.parametrize(
    ("amount", "currency", "note"),
    [
        (Decimal(100), "XOF", "No exchange rate for XOF"),
        (None, "EUR", "No amount to convert"),
        (None, "SGD", "No amount to convert"),
        (Decimal(100), "", "No currency"),
    ],
)
def test_what_cannot_be_converted_says_why(
    amount: Decimal | None, currency: str, note: str
) -> None:
    conversion = _converter(SGD="1.34", EUR="0.9").convert(amount, currency)
    assert conversion.amount_sgd is None  # never 1:1
    assert (conversion.rate, conversion.rate_as_of, conversion.rate_source) == (None, None, "")
    assert conversion.note == note


def test_without_an_sgd_rate_nothing_foreign_converts() -> None:
    conversion = _converter(EUR="0.9").convert(Decimal(100), "EUR")
    assert conversion.amount_sgd is None
    assert conversion.note == "No exchange rate for SGD"


def test_an_amount_too_large_for_the_column_is_refused() -> None:
    conversion = _converter(SGD="1.34", KWD="0.3").convert(Decimal("9999999999999999.99"), "KWD")
    assert conversion.amount_sgd is None
    assert conversion.note == "SGD amount too large to record"


def test_the_weakest_source_and_the_older_date_are_reported() -> None:
    older = datetime(2026, 3, 1, tzinfo=UTC)
    converter = SgdConverter(
        {
            "SGD": RatePoint(Decimal("1.34"), AS_OF, RateSource.API),
            "EUR": RatePoint(Decimal("0.9"), older, RateSource.MANUAL),
            "INR": RatePoint(Decimal("85"), AS_OF, RateSource.SEED),
        }
    )
    eur = converter.convert(Decimal(1), "EUR")
    assert (eur.rate_source, eur.rate_as_of, eur.note) == ("manual", older, "")
    inr = converter.convert(Decimal(1), "INR")
    assert inr.rate_source == "seed"
    assert "Seed rate" in inr.note


# --- Loading the rates in effect ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_newest_api_rate_wins_then_overrides_beat_it() -> None:
    ExchangeRateFactory.create(currency="SGD", units_per_usd=Decimal("1.30"), as_of=AS_OF)
    newest = datetime(2026, 3, 11, tzinfo=UTC)
    ExchangeRateFactory.create(currency="SGD", units_per_usd=Decimal("1.35"), as_of=newest)
    ExchangeRateFactory.create(currency="INR", units_per_usd=Decimal("83"), as_of=AS_OF)
    seed_only = ExchangeRateFactory.create(
        currency="THB", units_per_usd=Decimal("34"), source=RateSource.SEED
    )
    ExchangeRateFactory.create(currency="SGD", source=RateSource.SEED, as_of=datetime.now(UTC))
    RateOverrideFactory.create(currency="INR", units_per_usd=Decimal("80"))

    converter = sgd_converter()

    assert converter.latest_rate("SGD") == RatePoint(Decimal("1.35"), newest, "api")
    inr = converter.latest_rate("INR")
    assert inr is not None
    assert (inr.units_per_usd, inr.source) == (Decimal(80), "manual")
    thb = converter.latest_rate("THB")
    assert thb is not None
    assert (thb.units_per_usd, thb.source) == (seed_only.units_per_usd, "seed")


@pytest.mark.django_db
def test_converter_loads_once_then_converts_without_queries() -> None:
    ExchangeRateFactory.create(currency="SGD", units_per_usd=Decimal("1.34"))
    ExchangeRateFactory.create(currency="EUR", units_per_usd=Decimal("0.9"))

    with CaptureQueriesContext(connection) as cold:
        converter = sgd_converter()
    with CaptureQueriesContext(connection) as converting:
        for _ in range(100):
            converter.convert(Decimal("100.00"), "EUR")
    with CaptureQueriesContext(connection) as warm:
        assert sgd_converter().convert(Decimal(9), "EUR").amount_sgd == Decimal("13.40")

    assert len(cold) == 2  # rates and overrides
    assert len(converting) == 0
    assert len(warm) == 0  # from the cache


@pytest.mark.django_db
def test_invalidation_makes_the_next_converter_read_the_database() -> None:
    ExchangeRateFactory.create(currency="SGD", units_per_usd=Decimal("1.34"))
    assert sgd_converter().latest_rate("EUR") is None
    ExchangeRateFactory.create(currency="EUR", units_per_usd=Decimal("0.9"))
    assert sgd_converter().latest_rate("EUR") is None  # still cached
    effective_rates_invalidate()
    assert sgd_converter().latest_rate("EUR") is not None


@pytest.mark.django_db
def test_sgd_deals_convert_with_an_empty_rate_table() -> None:
    conversion = sgd_converter().convert(Decimal("1234.56"), "SGD")
    assert conversion.amount_sgd == Decimal("1234.56")
