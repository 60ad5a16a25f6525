"""Closed deals keep the rate of their closing date on every path; open deals follow the market.

Won deals: realised revenue does not drift with the market. Lost deals: what was lost is
valued at the rate of the day it was lost, so a lost deal's SGD figure never moves either.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.cache import cache

from currency.client import UsdRates
from currency.models import ExchangeRate
from currency.services import fx_rates_store, rate_override_remove, rate_override_set
from currency.tests.factories import ExchangeRateFactory
from opportunities.models import Opportunity, StageMapping
from opportunities.services import stage_mapping_save
from opportunities.tasks import health_daily
from opportunities.tests.factories import UserFactory
from opportunities.tests.syncing import sync_new, sync_page

pytestmark = pytest.mark.django_db

MARCH_1 = datetime(2026, 3, 1, 4, tzinfo=UTC)  # noon in Singapore
APRIL_1 = datetime(2026, 4, 1, 4, tzinfo=UTC)


@pytest.fixture(autouse=True)
def rates() -> None:
    for as_of, usd_per_sgd, eur in ((MARCH_1, "1.30", "0.90"), (APRIL_1, "1.40", "0.80")):
        ExchangeRateFactory.create(currency="SGD", units_per_usd=Decimal(usd_per_sgd), as_of=as_of)
        ExchangeRateFactory.create(currency="EUR", units_per_usd=Decimal(eur), as_of=as_of)
    cache.clear()


def _eur_deal(stage: str, closing: date, **fields: Any) -> Opportunity:
    return sync_new(
        stage=stage, currency="EUR", amount=Decimal("900.00"), closing_date=closing, **fields
    )


def _sgd(deal: Opportunity) -> Decimal | None:
    return Opportunity.objects.get(pk=deal.pk).amount_sgd


@time_machine.travel(datetime(2026, 4, 10, tzinfo=UTC), tick=False)
def test_won_and_lost_deals_are_locked_to_their_closing_date_rate() -> None:
    won = _eur_deal("Closed Won", date(2026, 3, 15))
    lost = _eur_deal("Closed Lost", date(2026, 3, 15))
    open_deal = _eur_deal("Qualification", date(2026, 6, 30))
    assert _sgd(won) == _sgd(lost) == Decimal("1300.00")  # 900 x 1.30 / 0.90
    assert _sgd(open_deal) == Decimal("1575.00")  # 900 x 1.40 / 0.80, the latest


@time_machine.travel(datetime(2026, 4, 10, tzinfo=UTC), tick=False)
def test_a_rate_refresh_moves_open_deals_only() -> None:
    won = _eur_deal("Closed Won", date(2026, 3, 15))
    lost = _eur_deal("Closed Lost", date(2026, 3, 15))
    fx_rates_store(
        rates=UsdRates(
            as_of=datetime(2026, 4, 10, tzinfo=UTC),
            units_per_usd={"SGD": Decimal("1.50"), "EUR": Decimal("0.75")},
            missing=(),
        )
    )
    assert _sgd(won) == _sgd(lost) == Decimal("1300.00")


@time_machine.travel(datetime(2026, 4, 10, tzinfo=UTC), tick=False)
def test_a_mapping_that_makes_deals_won_locks_them_and_one_that_unwins_them_unlocks() -> None:
    deal = _eur_deal("Signed", date(2026, 3, 15), probability=90)  # unmapped: open, phase 3
    assert _sgd(deal) == Decimal("1575.00")
    stage_mapping_save(mapping=StageMapping(stage="Signed", phase=4, outcome="won"), user=None)
    assert Opportunity.objects.get(pk=deal.pk).outcome == "won"
    assert _sgd(deal) == Decimal("1300.00")
    mapping = StageMapping.objects.get(stage="Signed")
    mapping.phase, mapping.outcome = 3, "open"
    stage_mapping_save(mapping=mapping, user=None)
    assert _sgd(deal) == Decimal("1575.00")


@time_machine.travel(datetime(2026, 4, 10, tzinfo=UTC), tick=False)
def test_a_won_deal_closing_today_or_later_locks_to_that_days_rate_once_known() -> None:
    deal = _eur_deal("Closed Won", date(2026, 4, 12))
    assert _sgd(deal) == Decimal("1575.00")  # the latest rate, until the 12th's is known
    with time_machine.travel(datetime(2026, 4, 12, 6, tzinfo=UTC), tick=False):
        fx_rates_store(
            rates=UsdRates(
                as_of=datetime(2026, 4, 12, 5, tzinfo=UTC),
                units_per_usd={"SGD": Decimal("1.35"), "EUR": Decimal("0.90")},
                missing=(),
            )
        )
    assert _sgd(deal) == Decimal("1350.00")
    with time_machine.travel(datetime(2026, 4, 14, tzinfo=UTC), tick=False):
        fx_rates_store(
            rates=UsdRates(
                as_of=datetime(2026, 4, 14, tzinfo=UTC),
                units_per_usd={"SGD": Decimal("2.00"), "EUR": Decimal("1.00")},
                missing=(),
            )
        )
    assert _sgd(deal) == Decimal("1350.00")  # the 14th is after its closing day


@time_machine.travel(datetime(2026, 4, 10, tzinfo=UTC), tick=False)
def test_an_override_covering_a_won_deals_closing_date_relocks_it_and_its_removal_too() -> None:
    admin = UserFactory.create()
    deal = _eur_deal("Closed Won", date(2026, 4, 10))
    assert _sgd(deal) == Decimal("1575.00")
    override = rate_override_set(
        currency="EUR", units_per_usd=Decimal("0.70"), reason="Budget rate", user=admin
    )
    assert _sgd(deal) == Decimal("1800.00")  # 900 x 1.40 / 0.70
    with time_machine.travel(datetime(2026, 4, 11, tzinfo=UTC), tick=False):
        rate_override_remove(override=override, reason="Back to market", user=admin)
    # The override was in force at the end of its closing day: the lock keeps it.
    assert _sgd(deal) == Decimal("1800.00")
    assert ExchangeRate.objects.filter(currency="EUR", source="manual").count() == 1


@time_machine.travel(datetime(2026, 4, 10, tzinfo=UTC), tick=False)
def test_a_sync_that_changes_a_won_deals_closing_date_relocks_it() -> None:
    deal = _eur_deal("Closed Won", date(2026, 3, 15))
    sync_page({deal: {"closing_date": date(2026, 4, 5)}})
    assert _sgd(deal) == Decimal("1575.00")


def test_a_future_po_is_a_plan_until_the_nightly_run_of_its_day_moves_the_deal() -> None:
    with time_machine.travel(datetime(2026, 6, 1, 2, tzinfo=UTC), tick=False):
        deal = sync_new(
            stage="Qualification",
            probability=10,
            closing_date=date(2026, 7, 31),
            po_received_on=date(2026, 6, 3),
        )
        # Phase and health read the PO the same way: not yet, so no "PO without kick-off".
        assert (deal.phase, deal.health_status) == (1, "success")
    with time_machine.travel(datetime(2026, 6, 2, 16, 5, tzinfo=UTC), tick=False):  # 00:05 SGT
        health_daily.apply().get()
    deal.refresh_from_db()
    assert deal.phase == 4
    transition = deal.phase_transitions.latest("id")
    assert (transition.from_phase, transition.to_phase, transition.cause) == (1, 4, "milestone")
    assert transition.occurred_at == datetime(2026, 6, 2, 16, 5, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 6, 3, 16, 5, tzinfo=UTC), tick=False):
        health_daily.apply().get()  # nothing more to raise
    assert deal.phase_transitions.count() == 2
