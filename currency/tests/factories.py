"""Factories for stored rates and overrides; tests state the values they depend on."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from currency.models import ExchangeRate, RateOverride, RateSource
from opportunities.tests.factories import UserFactory


class ExchangeRateFactory(DjangoModelFactory[ExchangeRate]):
    class Meta:
        model = ExchangeRate

    currency = "SGD"
    units_per_usd = Decimal("1.34")
    as_of = factory.LazyFunction(lambda: datetime.now(UTC))
    source = RateSource.API


class RateOverrideFactory(DjangoModelFactory[RateOverride]):
    class Meta:
        model = RateOverride

    currency = "INR"
    units_per_usd = Decimal("80")
    reason = "Finance's agreed budget rate"
    created_by = factory.SubFactory(UserFactory)
