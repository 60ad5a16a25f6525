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
    OpportunityFactory.create(outcome="lost", amount_sgd=Decimal("77.00"))
    OpportunityFactory.create(outcome="won", amount_sgd=Decimal("5.00"), is_deleted=True)

    with CaptureQueriesContext(connection) as queries:
        summary = pipeline_summary(Opportunity.objects.live(), today=TODAY)

    assert len(queries) == 1
    assert summary.open_pipeline_sgd == Decimal("1333.43")
    # 1000.10 x 10% + 333.33 x 33% = 100.01 + 109.9989 = 210.0089 → 210.01
    assert summary.weighted_pipeline_sgd == Decimal("210.01")
    assert summary.won_this_quarter_sgd == Decimal("9000.00")  # 30 Sep is last quarter
    assert (summary.danger_count, summary.danger_sgd) == (1, Decimal("333.33"))
    assert summary.win_rate == Decimal("0.6667")  # 2 won of 3 closed
    assert summary.average_deal_sgd == Decimal("5000.00")
    assert summary.not_convertible_count == 1
    assert summary.quarter == (date(2026, 10, 1), date(2026, 12, 31))


def test_no_deals_gives_zeros_and_no_rates() -> None:
    summary = pipeline_summary(Opportunity.objects.live(), today=TODAY)
    assert summary.open_pipeline_sgd == summary.danger_sgd == Decimal("0.00")
    assert (summary.win_rate, summary.average_deal_sgd) == (None, None)
