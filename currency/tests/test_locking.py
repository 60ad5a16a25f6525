"""Won deals lock the rate in force on their closing date (a Singapore day) from the history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from currency.conversion import sgd_converter
from currency.models import RateSource
from currency.tests.factories import ExchangeRateFactory, RateOverrideFactory

pytestmark = pytest.mark.django_db

SGT = ZoneInfo("Asia/Singapore")


def _rate(currency: str, units: str, as_of: datetime, source: str = RateSource.API) -> None:
    ExchangeRateFactory.create(
        currency=currency, units_per_usd=Decimal(units), as_of=as_of, source=source
    )


def _history() -> None:
    """USD is 1 throughout; SGD per USD changes at the end of three Singapore days."""
    _rate("USD", "1", datetime(2025, 1, 1, tzinfo=UTC))
    _rate("SGD", "1.30", datetime(2025, 3, 1, 12, 0, tzinfo=SGT))
    _rate("SGD", "1.32", datetime(2025, 3, 5, 23, 59, tzinfo=SGT))
    _rate("SGD", "1.40", datetime(2025, 3, 6, 0, 0, tzinfo=SGT))  # the next Singapore day
    _rate("SGD", "1.50", datetime.now(UTC))


def test_open_deals_use_the_latest_rate() -> None:
    _history()
    assert sgd_converter().convert(Decimal(100), "USD").amount_sgd == Decimal("150.00")


@pytest.mark.parametrize(
    ("closing_date", "expected"),
    [
        (date(2025, 3, 1), "130.00"),  # the rate of that very day
        (date(2025, 3, 4), "130.00"),  # the nearest earlier one
        (date(2025, 3, 5), "132.00"),  # 23:59 Singapore time still counts for the day
        (date(2025, 3, 6), "140.00"),  # midnight Singapore time is the next day
        (date(2025, 3, 20), "140.00"),
    ],
)
def test_won_deals_use_the_rate_on_or_before_their_closing_date(
    closing_date: date, expected: str
) -> None:
    _history()
    conversion = sgd_converter().convert(Decimal(100), "USD", locked_on=closing_date)
    assert conversion.amount_sgd == Decimal(expected)
    assert conversion.note == ""


def test_without_earlier_history_the_earliest_later_rate_is_used_and_flagged() -> None:
    _history()
    conversion = sgd_converter().convert(Decimal(100), "USD", locked_on=date(2025, 2, 1))
    assert conversion.amount_sgd == Decimal("130.00")
    # The as-of cited is the older of the two rates (USD's here), for staleness's sake.
    assert conversion.rate_as_of == datetime(2025, 1, 1, tzinfo=UTC)
    assert conversion.note == "Rate from after the closing date (rate of 2025-03-01)"


def test_seed_is_used_for_history_only_when_the_api_has_nothing() -> None:
    _rate("USD", "1", datetime(2025, 1, 2, tzinfo=UTC), RateSource.SEED)
    _rate("SGD", "1.3655", datetime(2025, 1, 2, tzinfo=UTC), RateSource.SEED)
    _rate("SGD", "1.30", datetime(2025, 3, 1, tzinfo=UTC))
    converter = sgd_converter()

    # SGD: an API rate after the date beats the seed rate before it; USD has only seed.
    later = converter.convert(Decimal(100), "USD", locked_on=date(2025, 2, 1))
    assert (later.amount_sgd, later.rate_source) == (Decimal("130.00"), "seed")
    assert later.note == (
        "Rate from after the closing date (rate of 2025-03-01); "
        "Seed rate: bundled fallback, not a market rate"
    )


def test_an_override_in_force_on_the_closing_date_is_used() -> None:
    _history()
    override = RateOverrideFactory.create(currency="SGD", units_per_usd=Decimal("1.60"))
    override.created_at = datetime(2025, 3, 10, 9, 0, tzinfo=SGT)
    override.removed_at = datetime(2025, 3, 12, 9, 0, tzinfo=SGT)
    override.removed_by = override.created_by
    override.removal_reason = "API fixed"
    override.save()
    converter = sgd_converter()

    def locked(day: date) -> Decimal | None:
        return converter.convert(Decimal(100), "USD", locked_on=day).amount_sgd

    assert locked(date(2025, 3, 9)) == Decimal("140.00")  # before the override
    assert locked(date(2025, 3, 10)) == Decimal("160.00")  # in force at the end of the day
    assert locked(date(2025, 3, 11)) == Decimal("160.00")
    assert locked(date(2025, 3, 12)) == Decimal("140.00")  # removed during that day
    conversion = converter.convert(Decimal(100), "USD", locked_on=date(2025, 3, 11))
    assert conversion.rate_source == "manual"


def test_a_currency_never_seen_has_no_rate_on_any_date() -> None:
    _history()
    conversion = sgd_converter().convert(Decimal(100), "XOF", locked_on=date(2025, 3, 5))
    assert conversion.amount_sgd is None
    assert conversion.note == "No exchange rate for XOF"


@pytest.mark.parametrize("deals", [10, 120])
def test_history_is_loaded_once_per_currency_not_per_deal(deals: int) -> None:
    _history()
    for currency, units in (("EUR", "0.9"), ("INR", "83")):
        for day in range(30):
            _rate(currency, units, datetime(2025, 3, 1, tzinfo=UTC) + timedelta(days=day))
    converter = sgd_converter()
    with CaptureQueriesContext(connection) as queries:
        for index in range(deals):
            currency = ("USD", "EUR", "INR")[index % 3]
            closing_date = date(2025, 3, 1) + timedelta(days=index % 40)
            converted = converter.convert(Decimal(1000), currency, locked_on=closing_date)
            assert converted.amount_sgd is not None
    # Overrides once, then SGD, USD, EUR and INR once each: the same for 10 or 120 deals.
    assert len(queries) == 5
