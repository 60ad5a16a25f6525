"""SGD amounts after rate changes: the right rows, the right fields, a fixed query budget."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import factory
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from currency.conversion import sgd_converter
from currency.models import ExchangeRate
from currency.tests.factories import ExchangeRateFactory
from opportunities.models import Opportunity
from opportunities.services import health_recompute
from opportunities.services.fx import closed_opportunities_relock, opportunities_reconvert
from opportunities.tests.factories import AccountFactory, CrmUserFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def rates() -> None:
    for code, units in (("SGD", "1.34"), ("USD", "1"), ("EUR", "0.9")):
        ExchangeRateFactory.create(currency=code, units_per_usd=Decimal(units), as_of=AS_OF)


def _deals(count: int) -> list[Opportunity]:
    account, owner = AccountFactory.create(), CrmUserFactory.create()
    currencies = ("USD", "EUR", "SGD", "XOF")
    return OpportunityFactory.create_batch(
        count,
        account=account,
        owner=owner,
        amount=Decimal("1000.00"),
        currency=factory.Iterator(currencies),
    )


def test_open_deals_get_every_fx_field(rates: None) -> None:
    usd, eur, sgd, xof = _deals(4)
    won = OpportunityFactory.create(currency="USD", outcome="won")
    lost = OpportunityFactory.create(currency="USD", outcome="lost")
    deleted = OpportunityFactory.create(currency="USD", is_deleted=True)

    assert opportunities_reconvert() == 4

    usd.refresh_from_db()
    assert (usd.amount_sgd, usd.fx_rate, usd.fx_rate_as_of, usd.fx_rate_source, usd.fx_note) == (
        Decimal("1340.00"),
        Decimal("1.34"),
        AS_OF,
        "api",
        "",
    )
    eur.refresh_from_db()
    assert (eur.amount_sgd, eur.fx_rate) == (Decimal("1488.89"), Decimal("1.488888888889"))
    sgd.refresh_from_db()
    assert (sgd.amount_sgd, sgd.fx_rate, sgd.fx_rate_source) == (Decimal("1000.00"), 1, "")
    xof.refresh_from_db()
    assert (xof.amount_sgd, xof.fx_rate, xof.fx_note) == (None, None, "No exchange rate for XOF")
    for untouched in (won, lost, deleted):
        untouched.refresh_from_db()
        assert untouched.amount_sgd is None


def test_a_second_run_changes_nothing(rates: None) -> None:
    _deals(8)
    assert opportunities_reconvert() == 8  # the XOF deals get their note
    assert opportunities_reconvert() == 0


def test_a_rate_that_disappears_empties_the_sgd_amount(rates: None) -> None:
    OpportunityFactory.create(currency="EUR", amount=Decimal(100))
    opportunities_reconvert()
    ExchangeRate.objects.filter(currency="EUR").delete()
    assert opportunities_reconvert(converter=sgd_converter(use_cache=False)) == 1
    deal = Opportunity.objects.get()
    assert (deal.amount_sgd, deal.fx_rate, deal.fx_rate_as_of) == (None, None, None)
    assert deal.fx_note == "No exchange rate for EUR"


def test_only_the_given_ids_are_reconverted(rates: None) -> None:
    first, second, *_ = _deals(4)
    won = OpportunityFactory.create(currency="USD", outcome="won")
    assert opportunities_reconvert(opportunity_ids=[first.pk, won.pk]) == 1
    second.refresh_from_db()
    assert second.amount_sgd is None
    assert opportunities_reconvert(opportunity_ids=[]) == 0


def _reconvert_queries(count: int) -> int:
    Opportunity.objects.all().delete()
    _deals(count)
    converter = sgd_converter()
    with CaptureQueriesContext(connection) as queries:
        changed = opportunities_reconvert(converter=converter)
    assert changed == count
    return len(queries)


def test_query_count_does_not_grow_with_the_number_of_deals(rates: None) -> None:
    assert _reconvert_queries(10) == _reconvert_queries(200)
    # Savepoint, read page, one UPDATE, the page's pipeline moves (one INSERT), release; then
    # the rescoring of the deals that just became convertible (thresholds, lock and read, one
    # UPDATE, with its savepoint).
    assert _reconvert_queries(10) <= 10


def test_query_count_with_ids_does_not_grow_either(rates: None) -> None:
    def queries(count: int) -> int:
        Opportunity.objects.all().delete()
        ids = [deal.pk for deal in _deals(count)]
        converter = sgd_converter()
        with CaptureQueriesContext(connection) as captured:
            opportunities_reconvert(opportunity_ids=ids, converter=converter)
        return len(captured)

    assert queries(10) == queries(200)


def test_won_deals_are_relocked_to_their_closing_date(rates: None) -> None:
    later = datetime(2026, 3, 20, tzinfo=UTC)
    ExchangeRateFactory.create(currency="SGD", units_per_usd=Decimal("1.50"), as_of=later)
    won = OpportunityFactory.create(
        currency="USD",
        amount=Decimal(100),
        outcome="won",
        closing_date=datetime(2026, 3, 5, tzinfo=UTC).date(),
    )
    open_deal = OpportunityFactory.create(currency="USD", amount=Decimal(100))

    assert closed_opportunities_relock() == 1

    won.refresh_from_db()
    assert (won.amount_sgd, won.fx_rate_as_of) == (Decimal("134.00"), AS_OF)
    open_deal.refresh_from_db()
    assert open_deal.amount_sgd is None
    assert opportunities_reconvert() == 1
    open_deal.refresh_from_db()
    assert open_deal.amount_sgd == Decimal("150.00")


def test_pages_cover_every_deal_once(rates: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("opportunities.services.fx.RECONVERT_PAGE_SIZE", 3)
    deals = _deals(10)
    assert opportunities_reconvert() == 10
    assert not Opportunity.objects.filter(fx_note="", amount_sgd__isnull=True).exists()
    Opportunity.objects.update(amount_sgd=None, fx_rate=None, fx_note="")
    assert opportunities_reconvert(opportunity_ids=[deal.pk for deal in deals[:7]]) == 7
    assert opportunities_reconvert() == 3


def test_nulls_and_values_mix_in_one_statement(rates: None) -> None:
    # A page where every deal becomes unconvertible: every value written is NULL or text.
    deals = OpportunityFactory.create_batch(3, currency="XOF", amount=Decimal(5))
    assert opportunities_reconvert() == 3
    assert {deal.fx_note for deal in Opportunity.objects.filter(pk__in=[d.pk for d in deals])} == {
        "No exchange rate for XOF"
    }


def test_a_rate_that_appears_rescores_the_deals_it_makes_convertible() -> None:
    deal = OpportunityFactory.create(currency="THB", amount=Decimal("100000.00"), amount_sgd=None)
    health_recompute(opportunity_ids=[deal.pk])
    deal.refresh_from_db()
    assert [reason["code"] for reason in deal.health_reasons] == ["no_sgd_amount"]

    ExchangeRateFactory.create(currency="SGD", units_per_usd=Decimal("1.35"))
    ExchangeRateFactory.create(currency="THB", units_per_usd=Decimal("36"))
    opportunities_reconvert()

    deal.refresh_from_db()
    assert deal.amount_sgd == Decimal("3750.00")
    assert "no_sgd_amount" not in [reason["code"] for reason in deal.health_reasons]
