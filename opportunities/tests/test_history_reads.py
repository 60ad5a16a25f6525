"""A deal's phase moves and change events, as the deal page reads them: one query each."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opportunities.models import ChangeEvent, ChangeKind, PhaseTransition
from opportunities.tests.factories import OpportunityFactory, PhaseTransitionFactory

pytestmark = pytest.mark.django_db


def test_a_deals_moves_come_oldest_first_and_only_its_own() -> None:
    deal, other = OpportunityFactory.create_batch(2)
    now = timezone.now()
    later = PhaseTransitionFactory.create(
        opportunity=deal, from_phase=3, to_phase=2, occurred_at=now
    )
    first = PhaseTransitionFactory.create(
        opportunity=deal, from_phase=None, to_phase=1, occurred_at=now - timedelta(days=3)
    )
    # Same moment as `later`: the older row (smaller id) comes first.
    same_time = PhaseTransitionFactory.create(
        opportunity=deal, from_phase=2, to_phase=3, occurred_at=now
    )
    PhaseTransitionFactory.create(opportunity=other, to_phase=1)

    with CaptureQueriesContext(connection) as queries:
        moves = list(PhaseTransition.objects.of_deal(deal.pk))

    assert len(queries) == 1
    assert [move.pk for move in moves] == [first.pk, later.pk, same_time.pk]
    assert isinstance(moves[0], PhaseTransition)
    assert [move.is_backwards for move in moves] == [False, True, False]
    assert moves[1].get_to_phase_display() == "Qualified"


def test_a_deals_newest_changes_come_first_up_to_the_limit() -> None:
    deal, other = OpportunityFactory.create_batch(2)
    now = timezone.now()
    events = [
        ChangeEvent.objects.create(
            opportunity=deal, kind=ChangeKind.AMOUNT_UP, occurred_at=now - timedelta(hours=hours)
        )
        for hours in (5, 1, 3)
    ]
    ChangeEvent.objects.create(opportunity=other, kind=ChangeKind.NEW, occurred_at=now)

    with CaptureQueriesContext(connection) as queries:
        newest_two = list(ChangeEvent.objects.of_deal(deal.pk)[:2])

    assert len(queries) == 1
    assert [event.pk for event in newest_two] == [events[1].pk, events[2].pk]
    assert newest_two[0].get_kind_display() == ChangeKind.AMOUNT_UP.label
    assert [e.pk for e in ChangeEvent.objects.of_deal(deal.pk)] == [
        events[1].pk,
        events[2].pk,
        events[0].pk,
    ]


def test_a_deal_without_history_has_none() -> None:
    deal = OpportunityFactory.create()
    assert not PhaseTransition.objects.of_deal(deal.pk).exists()
    assert not ChangeEvent.objects.of_deal(deal.pk).exists()


def test_the_change_events_manager_keeps_its_queryset_methods() -> None:
    deal = OpportunityFactory.create()
    ChangeEvent.objects.create(opportunity=deal, kind=ChangeKind.NEW)
    today = timezone.localdate()
    assert ChangeEvent.objects.between(today, today).count() == 1
