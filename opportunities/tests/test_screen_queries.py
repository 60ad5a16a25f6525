"""The reads behind the screens: grouped figures and change totals, one query each."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opportunities.access import changes_visible_to
from opportunities.models import ChangeEvent, HealthStatus, Opportunity, Outcome
from opportunities.selectors import filter_options, health_groups, open_pipeline_breakdown
from opportunities.tests.screens import deal, mixed_pipeline

pytestmark = pytest.mark.django_db


def test_open_pipeline_breakdown_in_one_query() -> None:
    mixed_pipeline()
    with CaptureQueriesContext(connection) as captured:
        breakdown = open_pipeline_breakdown(Opportunity.objects.live())
    assert len(captured) == 1
    territory = {
        b.value: (b.deal_count, b.amount_sgd, b.not_converted) for b in breakdown["territory"]
    }
    assert territory == {
        "Singapore": (2, Decimal("350000.50"), 0),
        "Malaysia": (1, Decimal("40000.25"), 0),
        "India": (1, Decimal("0.00"), 1),
    }
    assert [b.value for b in breakdown["health"]] == ["danger", "warning", "success", "neutral"]
    assert sum(b.deal_count for b in breakdown["phase"]) == 4


def test_health_groups_and_filter_options() -> None:
    deal(health=HealthStatus.DANGER, sgd="10.00", territory="B")
    deal(health=HealthStatus.DANGER, sgd=None, territory="A")
    deal(territory="")
    deals = Opportunity.objects.live()
    with CaptureQueriesContext(connection) as captured:
        groups = health_groups(deals)
    assert len(captured) == 1
    assert groups["danger"] == (2, Decimal("10.00"))
    with CaptureQueriesContext(connection) as captured:
        options = filter_options(deals)
    assert len(captured) == 2  # the deals once, then the owners' names
    assert options["territories"] == ["A", "B"]
    owners = Opportunity.objects.values_list("owner__pk", "owner__name")
    assert options["owners"] == sorted(owners, key=lambda owner: (owner[1], owner[0]))
    assert options["currencies"] == ["SGD", "XAF"]


def test_change_totals_and_latest_per_kind() -> None:
    now = timezone.now()
    big = deal(sgd="9000.00")
    for minutes in range(5):
        ChangeEvent.objects.create(
            opportunity=big,
            kind="new",
            sgd_value=Decimal("9000.00"),
            occurred_at=now - timedelta(minutes=minutes),
        )
    ChangeEvent.objects.create(
        opportunity=big,
        kind="amount_down",
        delta=Decimal("-50.00"),
        sgd_value=Decimal("-50.00"),
        occurred_at=now,
    )
    events = ChangeEvent.objects.all()
    with CaptureQueriesContext(connection) as captured:
        totals = events.totals_by_kind()
    assert len(captured) == 1
    assert totals == {"new": (5, Decimal("45000.00")), "amount_down": (1, Decimal("-50.00"))}
    latest = list(events.latest_per_kind(2))
    assert [e.kind for e in latest] == ["amount_down", "new", "new"]
    assert latest[1].occurred_at == now


def test_change_events_visible_to_follow_the_deals() -> None:
    from opportunities.roles import Role
    from opportunities.tests.factories import CrmUserFactory, UserFactory

    rep = UserFactory.create(role=Role.REP, email="rep@example.com")
    mine = deal(owner=CrmUserFactory.create(email="rep@example.com"))
    ChangeEvent.objects.create(opportunity=mine, kind="won")
    ChangeEvent.objects.create(opportunity=deal(outcome=Outcome.WON), kind="won")
    assert list(changes_visible_to(rep).values_list("opportunity", flat=True)) == [mine.pk]
