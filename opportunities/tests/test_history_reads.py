"""A deal's phase moves and change events, as the deal page reads them: one query each."""

from datetime import timedelta

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opportunities.models import ChangeEvent, ChangeKind, Phase, PhaseTransition, TransitionCause
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
        moves = PhaseTransition.objects.of_deal(deal.pk)

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
        newest_two = ChangeEvent.objects.newest_of_deal(deal.pk, 2)

    assert len(queries) == 1
    assert [event.pk for event in newest_two] == [events[1].pk, events[2].pk]
    assert newest_two[0].get_kind_display() == ChangeKind.AMOUNT_UP.label
    assert [e.pk for e in ChangeEvent.objects.newest_of_deal(deal.pk, 10)] == [
        events[1].pk,
        events[2].pk,
        events[0].pk,
    ]


def test_a_deal_without_history_has_none() -> None:
    deal = OpportunityFactory.create()
    assert PhaseTransition.objects.of_deal(deal.pk) == []
    assert ChangeEvent.objects.newest_of_deal(deal.pk, 100) == []


def test_the_change_events_manager_keeps_its_queryset_methods() -> None:
    deal = OpportunityFactory.create()
    ChangeEvent.objects.create(opportunity=deal, kind=ChangeKind.NEW)
    today = timezone.localdate()
    assert ChangeEvent.objects.between(today, today).count() == 1


def _djangos_label(row: PhaseTransition | ChangeEvent, field: str) -> object:
    """What Django's own get_FOO_display() gives (the models replace it with a lookup)."""
    return models.Model._get_FIELD_display(row, row._meta.get_field(field))  # type: ignore[attr-defined]


@pytest.mark.parametrize("cause", [*TransitionCause.values, "retired-cause"])
@pytest.mark.parametrize("phase", [*Phase.values, 9])
def test_a_moves_labels_are_djangos(phase: int, cause: str) -> None:
    move = PhaseTransition(from_phase=phase, to_phase=phase, cause=cause)
    assert move.get_from_phase_display() == _djangos_label(move, "from_phase")
    assert move.get_to_phase_display() == _djangos_label(move, "to_phase")
    assert move.get_cause_display() == _djangos_label(move, "cause")
    assert PhaseTransition(from_phase=None).get_from_phase_display() == _djangos_label(
        PhaseTransition(from_phase=None), "from_phase"
    )


@pytest.mark.parametrize("kind", [*ChangeKind.values, "retired-kind"])
def test_a_changes_labels_are_djangos(kind: str) -> None:
    for cause in [*TransitionCause.values, "retired-cause"]:
        event = ChangeEvent(kind=kind, cause=cause)
        assert event.get_kind_display() == _djangos_label(event, "kind")
        assert event.get_cause_display() == _djangos_label(event, "cause")
