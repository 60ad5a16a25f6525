"""What a CRM page changes about deals: transitions, change events, push counters and health,
in a number of queries that does not grow with the page."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from currency.tests.factories import ExchangeRateFactory
from opportunities.models import (
    ChangeEvent,
    ChangeKind,
    Opportunity,
    PhaseTransition,
    PipelineMove,
)
from opportunities.services.fx import opportunities_reconvert
from opportunities.services.history import DealChange, deal_changes_record
from opportunities.tests.syncing import sync_new, sync_page

pytestmark = pytest.mark.django_db
SGT = ZoneInfo("Asia/Singapore")
DAY_1 = datetime(2026, 6, 1, 10, 0, tzinfo=SGT)


def kinds(deal: Opportunity) -> list[str]:
    return list(deal.change_events.order_by("occurred_at", "id").values_list("kind", flat=True))


@time_machine.travel(DAY_1, tick=False)
def test_a_new_deal_gets_its_first_transition_a_new_event_and_health() -> None:
    created_in_zoho = datetime(2026, 5, 20, 9, 0, tzinfo=SGT)
    deal = sync_new(
        stage="Needs Analysis",
        probability=20,
        closing_date=date(2026, 7, 31),
        amount=Decimal("12500.00"),
        zoho_created_time=created_in_zoho,
    )
    transition = deal.phase_transitions.get()
    assert (transition.from_phase, transition.to_phase, transition.cause) == (None, 2, "sync")
    assert transition.is_backwards is False
    event = deal.change_events.get()
    assert (event.kind, event.new_value, event.delta) == ("new", "12500.00", Decimal("12500.00"))
    assert event.occurred_at == created_in_zoho  # "new since" counts from Zoho's creation
    assert deal.phase_entered_at == DAY_1
    assert deal.health_status == "success"
    assert deal.health_computed_at == DAY_1


def test_a_new_deals_first_pipeline_move_is_a_baseline_until_history_started() -> None:
    with time_machine.travel(DAY_1, tick=False):
        first = sync_new(zoho_created_time=DAY_1 - timedelta(days=30))
    with time_machine.travel(DAY_1 + timedelta(days=1), tick=False):
        older = sync_new(zoho_created_time=DAY_1 - timedelta(days=3), closing_date=None)
        created_since = sync_new(zoho_created_time=DAY_1 + timedelta(hours=20))
        no_creation_time = sync_new(zoho_created_time=None)
    moves = {
        move.opportunity_id: move
        for move in PipelineMove.objects.filter(opportunity__in=[first, older, created_since])
    }
    assert (moves[first.pk].kind, moves[older.pk].kind) == ("baseline", "baseline")
    assert moves[created_since.pk].kind == "new"
    assert no_creation_time.pipeline_moves.get().kind == "new"
    move = moves[older.pk]
    assert (move.occurred_at, move.status_before, move.status_after) == (
        DAY_1 + timedelta(days=1),
        "",
        "open",
    )
    assert (move.closing_before, move.closing_after) == (None, None)
    assert (move.sgd_before, move.sgd_after) == (None, older.amount_sgd)
    event = no_creation_time.change_events.get()
    assert event.occurred_at == DAY_1 + timedelta(days=1)


def test_closing_date_pushes_and_pull_ins_are_counted_across_syncs() -> None:
    with time_machine.travel(DAY_1, tick=False):
        deal = sync_new(stage="Proposal/Price Quote", closing_date=date(2026, 7, 1))
    dates = [date(2026, 7, 15), date(2026, 8, 1), date(2026, 7, 20), date(2026, 7, 20)]
    for offset, closing_date in enumerate(dates, start=1):
        with time_machine.travel(DAY_1 + timedelta(days=offset), tick=False):
            sync_page({deal: {"closing_date": closing_date}})
        deal.refresh_from_db()
        if offset == 1:
            assert (deal.closing_date_push_count, deal.health_status) == (1, "success")
    assert (deal.closing_date_push_count, deal.closing_date_pull_in_count) == (2, 1)
    assert deal.health_status == "warning"
    assert deal.health_reasons == [
        {
            "code": "closing_date_pushed",
            "severity": "warning",
            "message": "Closing date pushed out 2 times (flagged from 2)",
        }
    ]
    events = deal.change_events.exclude(kind=ChangeKind.NEW).order_by("occurred_at")
    assert [(e.kind, e.old_value, e.new_value, e.delta) for e in events] == [
        ("closing_date_pushed", "2026-07-01", "2026-07-15", Decimal(14)),
        ("closing_date_pushed", "2026-07-15", "2026-08-01", Decimal(17)),
        ("closing_date_pulled_in", "2026-08-01", "2026-07-20", Decimal(-12)),
    ]


def test_a_closing_date_set_for_the_first_time_is_not_a_push() -> None:
    deal = sync_new(stage="Qualification", closing_date=None)
    sync_page({deal: {"closing_date": date(2026, 9, 1)}})
    deal.refresh_from_db()
    assert deal.closing_date_push_count == 0
    assert kinds(deal) == ["new"]


def test_phase_moves_are_recorded_and_a_backwards_move_is_flagged() -> None:
    with time_machine.travel(DAY_1, tick=False):
        deal = sync_new(stage="Qualification")
    later = DAY_1 + timedelta(days=10)
    sync_page({deal: {"stage": "Negotiation/Review", "probability": 70}}, synced_at=later)
    back = DAY_1 + timedelta(days=12)
    sync_page({deal: {"stage": "Needs Analysis", "probability": 30}}, synced_at=back)
    deal.refresh_from_db()
    transitions = list(
        deal.phase_transitions.values_list("from_phase", "to_phase", "is_backwards", "cause")
    )
    assert transitions == [(None, 1, False, "sync"), (1, 3, False, "sync"), (3, 2, True, "sync")]
    assert kinds(deal) == ["new", "phase_forward", "phase_backward"]
    assert deal.phase_entered_at == back
    with time_machine.travel(back + timedelta(days=4), tick=False):
        assert deal.days_in_phase == 4


def test_a_phase_raised_by_a_milestone_date_says_so() -> None:
    deal = sync_new(stage="Needs Analysis", probability=30)
    sync_page({deal: {"po_received_on": date(2026, 6, 1)}})
    transition = deal.phase_transitions.get(from_phase=2)
    assert (transition.to_phase, transition.cause) == (4, "milestone")


def test_a_deal_that_did_not_change_phase_keeps_its_phase_entry_time() -> None:
    with time_machine.travel(DAY_1, tick=False):
        deal = sync_new(stage="Qualification")
    sync_page({deal: {"probability": 15}}, synced_at=DAY_1 + timedelta(days=3))
    deal.refresh_from_db()
    assert deal.phase_entered_at == DAY_1
    assert deal.phase_transitions.count() == 1


def test_won_lost_and_reopened_are_recorded() -> None:
    won = sync_new(stage="Negotiation/Review", probability=80)
    lost = sync_new(stage="Proposal/Price Quote", probability=60)
    sync_page({won: {"stage": "Closed Won", "probability": 100}, lost: {"stage": "Closed Lost"}})
    won.refresh_from_db()
    lost.refresh_from_db()
    assert (won.outcome, won.phase) == ("won", 4)
    assert kinds(won) == ["new", "phase_forward", "won"]
    assert (lost.outcome, lost.phase) == ("lost", 3)  # a lost deal keeps its phase
    assert kinds(lost) == ["new", "lost"]
    assert lost.health_status == "neutral"
    assert lost.health_reasons[0]["code"] == "lost"
    sync_page({lost: {"stage": "Negotiation/Review"}})
    assert kinds(lost) == ["new", "lost", "reopened"]


def test_amount_changes_are_recorded_in_the_deals_currency_with_their_sgd_value() -> None:
    deal = sync_new(stage="Qualification", amount=Decimal("10000.00"))
    sync_page({deal: {"amount": Decimal("12500.50")}})
    sync_page({deal: {"amount": Decimal("9000.00")}})
    # A currency with no rate: a currency change whose SGD value is unknown.
    sync_page({deal: {"currency": "XOF"}})
    events = deal.change_events.exclude(kind="new").order_by("id")
    assert [(e.kind, e.old_value, e.new_value, e.delta, e.sgd_value) for e in events] == [
        ("amount_up", "SGD 10000.00", "SGD 12500.50", Decimal("2500.50"), Decimal("2500.50")),
        ("amount_down", "SGD 12500.50", "SGD 9000.00", Decimal("-3500.50"), Decimal("-3500.50")),
        ("currency_changed", "SGD 9000.00", "XOF 9000.00", None, None),
    ]
    deal.refresh_from_db()
    assert deal.health_status == "neutral"
    assert deal.health_reasons[0]["code"] == "no_rate"


def test_a_page_is_stored_in_a_number_of_queries_that_does_not_grow_with_it() -> None:
    def run(count: int) -> int:
        deals = [sync_new(stage="Qualification") for _ in range(count)]
        updates = {
            deal: {
                "stage": "Proposal/Price Quote",
                "closing_date": deal.closing_date + timedelta(days=7),  # type: ignore[operator]
                "amount": Decimal("20000.00"),
            }
            for deal in deals
        }
        with CaptureQueriesContext(connection) as queries:
            result = sync_page(updates)
        assert result.updated == count
        return len(queries)

    assert run(3) == run(40)


def test_the_post_sync_step_query_count_for_one_page() -> None:
    deals = [sync_new(stage="Qualification") for _ in range(20)]
    changes = [
        DealChange(
            opportunity_id=deal.pk,
            created=False,
            previous_closing_date=date(2026, 1, 1),
            previous_amount_sgd=Decimal("1.00"),
            previous_phase=2,
            previous_outcome="won",
        )
        for deal in deals
    ]
    with CaptureQueriesContext(connection) as queries:
        deal_changes_record(changes=changes)
    # Stage rules (mapping and CRM stages), deals, 3 bulk inserts (transitions, events,
    # pipeline moves), push counter, the slips into a later quarter, phase entry, thresholds,
    # health read and write, and the health chunk's savepoint and release: a constant,
    # whatever the size.
    assert len(queries) == 14
    assert PhaseTransition.objects.filter(from_phase=2).count() == 20
    assert ChangeEvent.objects.filter(kind="reopened").count() == 20


def test_nothing_to_do_costs_no_query() -> None:
    with CaptureQueriesContext(connection) as queries:
        deal_changes_record(changes=[])
    assert len(queries) == 0


def test_a_change_for_a_deal_that_is_gone_is_ignored() -> None:
    deal = sync_new(stage="Qualification")
    gone = DealChange(opportunity_id=deal.pk + 1000, created=False, previous_phase=1)
    deal_changes_record(changes=[gone, DealChange(opportunity_id=deal.pk, created=False)])
    assert ChangeEvent.objects.count() == 1


def test_amount_events_compare_the_deals_own_amount_not_its_sgd_value() -> None:
    ExchangeRateFactory.create(currency="SGD", units_per_usd=Decimal("1.30"))
    ExchangeRateFactory.create(currency="USD", units_per_usd=Decimal("1"))
    deal = sync_new(stage="Qualification", currency="USD", amount=Decimal("1000.00"))
    # A rate move alone (the amount in USD is the same): not an amount change.
    ExchangeRateFactory.create(currency="SGD", units_per_usd=Decimal("1.40"))
    cache.clear()
    opportunities_reconvert()
    sync_page({deal: {"name": "Renamed"}})
    assert not deal.change_events.filter(kind__startswith="amount").exists()
    # The deal's own amount moves: an event in USD, valued in SGD at the current rate.
    sync_page({deal: {"amount": Decimal("1500.00")}})
    event = deal.change_events.get(kind="amount_up")
    assert (event.old_value, event.new_value, event.delta) == (
        "USD 1000.00",
        "USD 1500.00",
        Decimal("500.00"),
    )
    assert event.sgd_value == Decimal("700.00")  # 500 USD at 1.40
    # A change of currency is its own event, not an amount up or down.
    sync_page({deal: {"currency": "SGD", "amount": Decimal("2100.00")}})
    currency = deal.change_events.get(kind="currency_changed")
    assert (currency.old_value, currency.new_value) == ("USD 1500.00", "SGD 2100.00")
    assert currency.sgd_value == Decimal("0.00")  # S$2,100.00 before and after
    assert deal.change_events.filter(kind__startswith="amount").count() == 1


def test_events_carry_the_sgd_value_they_concern_for_totals() -> None:
    deal = sync_new(stage="Qualification", amount=Decimal("8000.00"))
    sync_page({deal: {"closing_date": deal.closing_date + timedelta(days=30)}})  # type: ignore[operator]
    sync_page({deal: {"stage": "Closed Won", "probability": 100}})
    values = dict(deal.change_events.values_list("kind", "sgd_value"))
    assert values == {
        "new": Decimal("8000.00"),
        "closing_date_pushed": Decimal("8000.00"),
        "phase_forward": Decimal("8000.00"),
        "won": Decimal("8000.00"),
    }
