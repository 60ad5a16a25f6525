"""The dashboard's KPIs: exact SGD sums over exactly the deals given, in one query."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opportunities.models import Opportunity
from opportunities.selectors import pipeline_summary
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 29)  # Q4 2026


def test_every_figure_is_an_exact_sum_of_the_deals_behind_it() -> None:
    OpportunityFactory.create(amount_sgd=Decimal("1000.10"), probability=10)
    OpportunityFactory.create(amount_sgd=Decimal("333.33"), probability=33, health_status="danger")
    OpportunityFactory.create(amount=Decimal("5"), amount_sgd=None, probability=50)
    OpportunityFactory.create(
        outcome="won", amount_sgd=Decimal("9000.00"), closing_date=date(2026, 10, 1)
    )
    OpportunityFactory.create(
        outcome="won", amount_sgd=Decimal("1000.00"), closing_date=date(2026, 9, 30)
    )
    OpportunityFactory.create(
        outcome="lost", amount_sgd=Decimal("77.00"), closing_date=date(2026, 11, 2)
    )
    OpportunityFactory.create(outcome="won", amount_sgd=Decimal("5.00"), is_deleted=True)
    # Won, in Danger, revenue not recognised: delivery at risk, not a deal in Danger.
    OpportunityFactory.create(
        outcome="won",
        amount_sgd=Decimal("250.00"),
        closing_date=date(2026, 6, 1),
        health_status="danger",
    )
    # Won, in Danger, but its revenue is recognised: neither.
    OpportunityFactory.create(
        outcome="won",
        amount_sgd=Decimal("40.00"),
        closing_date=date(2026, 6, 1),
        health_status="danger",
        revenue_recognised_on=date(2026, 11, 1),
    )

    with CaptureQueriesContext(connection) as queries:
        summary = pipeline_summary(Opportunity.objects.live(), today=TODAY)

    assert len(queries) == 1
    assert summary.open_pipeline_sgd == Decimal("1333.43")
    # 1000.10 x 10% + 333.33 x 33% = 100.01 + 109.9989 = 210.0089 → 210.01
    assert summary.weighted_pipeline_sgd == Decimal("210.01")
    assert summary.won_this_quarter_sgd == Decimal("9000.00")  # 30 Sep is last quarter
    assert (summary.danger_count, summary.danger_sgd) == (1, Decimal("333.33"))
    assert (summary.delivery_risk_count, summary.delivery_risk_sgd) == (1, Decimal("250.00"))
    # Of the deals closing in Q4: 1 won, 1 lost.
    assert (summary.won_quarter_count, summary.closed_quarter_count) == (1, 2)
    assert summary.win_rate == Decimal("0.5000")
    assert summary.average_deal_sgd == Decimal("9000.00")
    assert summary.not_convertible_count == 1
    assert summary.quarter == (date(2026, 10, 1), date(2026, 12, 31))


def test_a_chosen_quarter_sets_every_period_figure_and_only_those() -> None:
    OpportunityFactory.create(amount_sgd=Decimal("100.00"), health_status="danger")
    OpportunityFactory.create(
        outcome="won", amount_sgd=Decimal("1000.00"), closing_date=date(2026, 9, 30)
    )
    OpportunityFactory.create(
        outcome="won", amount_sgd=Decimal("3000.00"), closing_date=date(2026, 7, 1)
    )
    OpportunityFactory.create(
        outcome="lost", amount_sgd=Decimal("5.00"), closing_date=date(2026, 8, 15)
    )
    OpportunityFactory.create(
        outcome="won", amount_sgd=Decimal("9000.00"), closing_date=date(2026, 10, 1)
    )

    q3 = (date(2026, 7, 1), date(2026, 9, 30))
    summary = pipeline_summary(Opportunity.objects.live(), today=TODAY, quarter=q3)

    assert summary.quarter == q3
    assert summary.won_this_quarter_sgd == Decimal("4000.00")
    assert (summary.won_quarter_count, summary.closed_quarter_count) == (2, 3)
    assert summary.win_rate == Decimal("0.6667")
    assert summary.average_deal_sgd == Decimal("2000.00")
    # Figures of the moment do not depend on the quarter.
    assert (summary.open_pipeline_sgd, summary.danger_count) == (Decimal("100.00"), 1)


def test_no_deals_gives_zeros_and_no_rates() -> None:
    summary = pipeline_summary(Opportunity.objects.live(), today=TODAY)
    assert summary.open_pipeline_sgd == summary.danger_sgd == Decimal("0.00")
    assert (summary.win_rate, summary.average_deal_sgd) == (None, None)
