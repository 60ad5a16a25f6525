"""Health recompute over many deals, and new thresholds taking effect."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from opportunities.models import HealthThresholds, Opportunity
from opportunities.services import (
    HealthRecomputeResult,
    health_recompute,
    health_thresholds_save,
)
from opportunities.tests.factories import (
    AccountFactory,
    CrmUserFactory,
    OpportunityFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
# 16:30 UTC on 14 June is 00:30 on 15 June in Singapore: the business day is already the 15th.
JUST_AFTER_MIDNIGHT_SGT = datetime(2026, 6, 14, 16, 30, tzinfo=UTC)


def deal(**fields: object) -> Opportunity:
    fields.setdefault("amount_sgd", Decimal("10000.00"))
    return OpportunityFactory.create(**fields)


def create_deals(count: int) -> None:
    account, owner = AccountFactory.create(), CrmUserFactory.create()
    Opportunity.objects.bulk_create(
        OpportunityFactory.build(account=account, owner=owner, amount_sgd=Decimal("5.00"))
        for _ in range(count)
    )


@time_machine.travel(JUST_AFTER_MIDNIGHT_SGT, tick=False)
def test_recompute_uses_the_singapore_business_day() -> None:
    overdue = deal(closing_date=date(2026, 6, 14), phase=3)
    due_today = deal(closing_date=date(2026, 6, 15), phase=3)
    result = health_recompute()
    overdue.refresh_from_db()
    due_today.refresh_from_db()
    assert overdue.health_status == "danger"
    assert overdue.health_reasons[0]["message"] == "Closing date passed 1 day ago (2026-06-14)"
    assert due_today.health_status == "success"
    assert overdue.health_computed_at == JUST_AFTER_MIDNIGHT_SGT
    assert result.deals == 2
    assert result.counts() == {"danger": 1, "warning": 0, "success": 1, "neutral": 0}


def test_recompute_covers_open_and_won_live_deals_only() -> None:
    stale = {"health_status": "danger", "health_reasons": [{"code": "x"}]}
    open_deal = deal(**stale)
    won = deal(outcome="won", phase=4, probability=100, **stale)
    lost = deal(outcome="lost", **stale)
    deleted = deal(is_deleted=True, **stale)
    result = health_recompute()
    assert result.deals == 2
    statuses = dict(Opportunity.objects.values_list("pk", "health_status"))
    assert statuses == {
        open_deal.pk: "success",
        won.pk: "success",
        lost.pk: "danger",
        deleted.pk: "danger",
    }
    health_recompute(opportunity_ids=[lost.pk])  # asked by id, any deal is rescored
    lost.refresh_from_db()
    assert (lost.health_status, lost.health_reasons[0]["code"]) == ("neutral", "lost")


def test_recompute_query_count_does_not_grow_with_the_number_of_deals() -> None:
    def queries_for(count: int) -> int:
        Opportunity.objects.all().delete()
        create_deals(count)
        with CaptureQueriesContext(connection) as queries:
            result = health_recompute()
        assert result.deals == count
        assert Opportunity.objects.filter(health_status="success").count() == count
        return len(queries)

    assert queries_for(10) == queries_for(1000)


def test_recompute_in_chunks_reaches_every_deal_with_three_statements_a_chunk() -> None:
    create_deals(10)
    with CaptureQueriesContext(connection) as queries:
        result = health_recompute(chunk_size=3)
    assert result.deals == 10
    assert not Opportunity.objects.exclude(health_status="success").exists()
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    # thresholds, then 4 chunks (3+3+3+1): ids, locked read, one write
    assert len(statements) == 1 + 4 * 3
    assert sum(sql.startswith("UPDATE") for sql in statements) == 4


def test_recompute_by_ids_chunks_too() -> None:
    create_deals(7)
    ids = list(Opportunity.objects.values_list("pk", flat=True))
    result = health_recompute(opportunity_ids=ids[:5], chunk_size=2)
    assert result.deals == 5
    assert Opportunity.objects.filter(health_status="success").count() == 5


def test_new_thresholds_are_a_new_row_and_rescore_every_deal() -> None:
    admin = UserFactory.create()
    pushed = deal(closing_date_push_count=1)
    assert health_recompute().counts()["warning"] == 0
    first = health_thresholds_save(
        thresholds=HealthThresholds(closing_date_pushes=1, note="Board asked"), user=admin
    )
    pushed.refresh_from_db()
    assert pushed.health_status == "warning"
    assert first.counts()["warning"] == 1
    health_thresholds_save(thresholds=HealthThresholds(closing_date_pushes=3), user=None)
    pushed.refresh_from_db()
    assert pushed.health_status == "success"
    history = list(HealthThresholds.objects.values_list("closing_date_pushes", "created_by"))
    assert history == [(3, None), (1, admin.pk)]
    assert HealthThresholds.objects.in_force().closing_date_pushes == 3


def test_saving_thresholds_never_edits_the_row_in_force() -> None:
    in_force = health_thresholds_save(thresholds=HealthThresholds(), user=None)
    assert in_force.deals == 0
    current = HealthThresholds.objects.in_force()
    current.stale_after_days = 30
    health_thresholds_save(thresholds=current, user=None)
    assert list(HealthThresholds.objects.values_list("stale_after_days", flat=True)) == [30, 21]


def test_invalid_thresholds_are_refused_and_nothing_changes() -> None:
    with pytest.raises(ValidationError):
        health_thresholds_save(
            thresholds=HealthThresholds(high_probability_without_po=150), user=None
        )
    assert not HealthThresholds.objects.exists()
    assert HealthThresholds.objects.in_force().high_probability_without_po == 80


def test_threshold_history_says_what_changed() -> None:
    older = HealthThresholds(stale_after_days=30)
    newer = HealthThresholds(stale_after_days=30, closing_soon_days=10)
    assert newer.changes_from(older) == ["closing soon days: 7 → 10"]
    assert older.changes_from(None) == ["stale after days: 21 → 30"]


def test_a_date_rule_moves_with_the_calendar() -> None:
    proposal = deal(phase=3, proposal_submitted_on=date(2026, 5, 1))
    for day, expected in [(31, "success"), (32, "danger")]:
        health_recompute(today=date(2026, 5, 1) + timedelta(days=day - 1))
        proposal.refresh_from_db()
        assert proposal.health_status == expected, day


def _in_own_connection(action: Callable[[], object]) -> threading.Thread:
    """Run `action` in a thread, on a connection of its own, outside the test's transaction."""

    def target() -> None:
        try:
            action()
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def _waiting_for_a_lock() -> bool:
    """Whether another session waits for a lock (pg_locks is read afresh every time, where
    pg_stat_activity keeps one snapshot per transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted)")
        return bool(cursor.fetchone()[0])


def _hold_one_of_two_deals(release_when: Callable[[], bool]) -> dict[str, object]:
    """A sync holds one of two deals while the nightly run goes over every deal; the sync
    lets go once `release_when()` says so (or after 10 s). What the run saw, and when."""
    deals: dict[str, int] = {}
    seen: dict[str, object] = {}
    locked, done = threading.Event(), threading.Event()

    def sync_in_progress() -> None:
        for name in ("held", "free"):
            deals[name] = Opportunity.objects.create(
                zoho_id=f"lock-{name}",
                name=name,
                stage="Qualification",
                currency="SGD",
                amount=Decimal("10.00"),
                amount_sgd=Decimal("10.00"),
                closing_date=date(2030, 1, 1),
                health_status="warning",
            ).pk
        with transaction.atomic():
            Opportunity.objects.select_for_update().get(pk=deals["held"])
            locked.set()
            for _ in range(100):
                if done.is_set() or release_when():
                    break
                time.sleep(0.1)
            seen["free_while_held"] = Opportunity.objects.get(pk=deals["free"]).health_status

    def nightly_run() -> None:
        seen["result"] = health_recompute()
        done.set()
        seen["statuses"] = dict(
            Opportunity.objects.filter(pk__in=deals.values()).values_list(
                "zoho_id", "health_status"
            )
        )

    def clean_up() -> None:
        Opportunity.objects.filter(pk__in=deals.values()).delete()

    sync = _in_own_connection(sync_in_progress)
    try:
        assert locked.wait(timeout=10)
        nightly = _in_own_connection(nightly_run)
        nightly.join(timeout=60)
    finally:
        done.set()
        sync.join()
        _in_own_connection(clean_up).join()
    return seen


def test_the_run_over_every_deal_scores_the_rest_first_then_waits_for_a_deal_a_sync_holds() -> None:
    # A sync page locks every deal it reads and rescores only those it changed: a deal it held
    # at midnight must not keep yesterday's health. The sync and the run need committed rows
    # and connections of their own: both run in threads, and their deals are deleted after.
    seen = _hold_one_of_two_deals(release_when=_waiting_for_a_lock)

    assert seen["free_while_held"] == "success"  # scored (and committed) without waiting
    result = seen["result"]
    assert isinstance(result, HealthRecomputeResult)
    assert (result.deals, result.skipped) == (2, 0)
    assert seen["statuses"] == {"lock-held": "success", "lock-free": "success"}


def test_a_deal_held_past_the_wait_is_left_for_the_next_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("opportunities.services.health.LOCK_WAIT_SECONDS", 1)

    seen = _hold_one_of_two_deals(release_when=lambda: False)  # a transaction that hangs on

    result = seen["result"]
    assert isinstance(result, HealthRecomputeResult)
    assert (result.deals, result.skipped) == (1, 1)
    assert seen["statuses"] == {"lock-held": "warning", "lock-free": "success"}
