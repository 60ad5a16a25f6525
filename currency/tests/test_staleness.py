"""Staleness: the 7- and 30-day boundaries, and the status of every configured currency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pytest_django import Settings

from currency.models import RateSource
from currency.services import fx_rates_status
from currency.staleness import Staleness, rate_staleness
from currency.tests.factories import ExchangeRateFactory, RateOverrideFactory

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age", "state"),
    [
        (timedelta(0), Staleness.FRESH),
        (timedelta(days=7), Staleness.FRESH),
        (timedelta(days=7, seconds=1), Staleness.STALE),
        (timedelta(days=30), Staleness.STALE),
        (timedelta(days=30, seconds=1), Staleness.EXPIRED),
        (timedelta(days=400), Staleness.EXPIRED),
        (-timedelta(minutes=5), Staleness.FRESH),  # a source clock slightly ahead
    ],
)
def test_staleness_boundaries(age: timedelta, state: Staleness) -> None:
    assert rate_staleness(NOW - age, now=NOW) is state


def test_no_rate_is_its_own_state() -> None:
    assert rate_staleness(None, now=NOW) is Staleness.MISSING


@pytest.mark.django_db
def test_status_reports_every_configured_and_overridden_currency(settings: Settings) -> None:
    settings.FX_CURRENCIES = ["SGD", "USD", "EUR", "INR", "THB"]
    ExchangeRateFactory.create(currency="SGD", units_per_usd=Decimal("1.34"), as_of=NOW)
    ExchangeRateFactory.create(currency="USD", units_per_usd=Decimal("1"), as_of=NOW)
    ExchangeRateFactory.create(
        currency="EUR", units_per_usd=Decimal("0.9"), as_of=NOW - timedelta(days=8)
    )
    ExchangeRateFactory.create(
        currency="INR",
        units_per_usd=Decimal("85"),
        as_of=NOW - timedelta(days=31),
        source=RateSource.SEED,
    )
    RateOverrideFactory.create(currency="XOF", units_per_usd=Decimal("600"))

    statuses = {status.currency: status for status in fx_rates_status(now=NOW)}

    assert list(statuses) == ["SGD", "USD", "EUR", "INR", "THB", "XOF"]
    assert (statuses["SGD"].sgd_per_unit, statuses["SGD"].staleness) == (1, Staleness.FRESH)
    assert statuses["USD"].sgd_per_unit == Decimal("1.34")
    assert statuses["EUR"].staleness is Staleness.STALE
    assert (statuses["INR"].source, statuses["INR"].staleness) == ("seed", Staleness.EXPIRED)
    assert (statuses["THB"].units_per_usd, statuses["THB"].staleness) == (None, Staleness.MISSING)
    assert statuses["THB"].sgd_per_unit is None
    assert (statuses["XOF"].source, statuses["XOF"].units_per_usd) == ("manual", 600)
