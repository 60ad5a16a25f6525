"""Every write that changes rates announces which currencies, and from which day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from currency.seed import SEED_AS_OF
from currency.services import (
    fx_rates_backfill,
    fx_rates_refresh,
    fx_rates_seed,
    rate_override_remove,
    rate_override_set,
)
from currency.signals import RateChange, rates_changed, rates_changed_send
from currency.tests.conftest import CurrencyFreaks
from opportunities.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def announced() -> Iterator[list[RateChange]]:
    changes: list[RateChange] = []

    def listen(sender: object, *, change: RateChange, **kwargs: Any) -> int:
        changes.append(change)
        return 3

    rates_changed.connect(listen, dispatch_uid="test-listener")
    yield changes
    rates_changed.disconnect(dispatch_uid="test-listener")


def test_receivers_counts_are_summed(announced: list[RateChange]) -> None:
    # The opportunities app's receiver answers 0 here (no deals); the test one answers 3.
    assert rates_changed_send(RateChange(currencies=None)) == 3
    assert announced == [RateChange(currencies=None)]


def test_a_refresh_announces_the_stored_currencies_from_the_rate_day(
    currencyfreaks: CurrencyFreaks, announced: list[RateChange]
) -> None:
    refresh = fx_rates_refresh()
    assert announced == [
        RateChange(currencies=frozenset(refresh.stored), effective_from=date(2026, 3, 10))
    ]
    announced.clear()
    fx_rates_backfill(on=date(2026, 2, 2))
    assert [change.effective_from for change in announced] == [date(2026, 2, 2)]


def test_an_override_announces_its_currency_from_the_day_it_began(
    announced: list[RateChange],
) -> None:
    admin = UserFactory.create()
    override = rate_override_set(
        currency="INR", units_per_usd=Decimal("80"), reason="Budget rate", user=admin
    )
    rate_override_remove(override=override, reason="Back to market", user=admin)
    began = timezone.localdate(override.created_at)
    assert announced == [RateChange(currencies=frozenset({"INR"}), effective_from=began)] * 2


def test_seeding_announces_what_it_seeded(announced: list[RateChange]) -> None:
    seeded = fx_rates_seed()
    assert announced == [RateChange(currencies=frozenset(seeded), effective_from=SEED_AS_OF.date())]
    announced.clear()
    assert fx_rates_seed() == ()
    assert announced == []
