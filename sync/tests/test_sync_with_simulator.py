"""The whole pull against the Zoho simulator over HTTP: paging, increments, faults, crashes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from opportunities.models import ChangeEvent, Opportunity
from simulator.clock import SimulatorClock
from simulator.faults import Fault
from sync.models import SyncIssue, SyncKind, SyncRun, SyncStatus, SyncTrigger
from sync.services import ProgressCallback, SyncAlreadyRunning, zoho_sync
from sync.tests.zoho_helpers import Zoho, serve_zoho

DEALS_PATH = "/crm/v8/Deals"


@contextmanager
def _zoho(deals: int) -> Iterator[Zoho]:
    # An hour behind our clock: the watermark must follow Zoho's times, not ours.
    clock = SimulatorClock(timezone.now().replace(microsecond=0) - timedelta(hours=1))
    with serve_zoho(deals=deals, clock=clock) as zoho:
        yield zoho


@pytest.fixture
def zoho() -> Iterator[Zoho]:
    with _zoho(300) as zoho:
        yield zoho


def _sync(
    zoho: Zoho, kind: str = SyncKind.INCREMENTAL, progress: ProgressCallback | None = None
) -> SyncRun:
    return zoho_sync(
        kind=kind, trigger=SyncTrigger.COMMAND, source=zoho.client(), progress=progress
    )


def _stored() -> dict[str, tuple[object, ...]]:
    rows = Opportunity.objects.live().values_list(
        "zoho_id", "amount", "stage", "closing_date", "zoho_modified_time"
    )
    return {zoho_id: tuple(values) for zoho_id, *values in rows}


def _in_zoho(zoho: Zoho) -> dict[str, tuple[object, ...]]:
    from datetime import date, datetime

    return {
        deal["id"]: (
            Decimal(str(deal["Amount"])) if deal["Amount"] is not None else None,
            deal["Stage"],
            date.fromisoformat(deal["Closing_Date"]) if deal["Closing_Date"] else None,
            datetime.fromisoformat(deal["Modified_Time"]),
        )
        for deal in zoho.simulator.deals()
    }


@pytest.mark.django_db
def test_full_sync_goes_past_2000_records_with_page_tokens() -> None:
    with _zoho(2450) as zoho:
        run = _sync(zoho, SyncKind.FULL)
        assert run.status == SyncStatus.SUCCEEDED, run.error
        # 13 pages, and the stage metadata a full run reads first.
        assert (run.fetched, run.created, run.pages, run.api_calls) == (2450, 2450, 13, 14)
        assert set(zoho.statuses(DEALS_PATH)) == {200}
        assert _stored() == _in_zoho(zoho)


@pytest.mark.django_db
def test_incremental_fetches_only_modified_deals_and_propagates_deletions(zoho: Zoho) -> None:
    _sync(zoho)
    zoho.simulator.clock.advance(timedelta(minutes=2))
    ids = [deal["id"] for deal in zoho.simulator.deals()]
    for deal_id in ids[:3]:
        zoho.simulator.modify_deal(deal_id, {"Amount": 12345.67, "Stage": "Negotiation/Review"})
    zoho.simulator.delete_deals(ids[3:5])
    zoho.server.reset_calls()

    run = _sync(zoho)

    assert (run.kind, run.status) == (SyncKind.INCREMENTAL, SyncStatus.SUCCEEDED)
    assert (run.fetched, run.updated, run.created, run.deleted) == (3, 3, 0, 2)
    assert run.api_calls == 2
    assert Opportunity.objects.get(zoho_id=ids[0]).amount == Decimal("12345.67")
    assert set(
        Opportunity.objects.filter(is_deleted=True).values_list("zoho_id", flat=True)
    ) == set(ids[3:5])
    assert _stored() == _in_zoho(zoho)


@pytest.mark.django_db
def test_the_org_activity_reaches_pipeline_pulse_in_the_next_incremental_syncs() -> None:
    clock = SimulatorClock(timezone.now().replace(microsecond=0) - timedelta(hours=2))
    with serve_zoho(deals=200, clock=clock, activity=True) as zoho:
        _sync(zoho, SyncKind.FULL)
        after_full = ChangeEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
        runs = []
        for _ in range(4):  # an hour of the demo: a sync every 15 minutes
            zoho.simulator.clock.advance(timedelta(minutes=15))
            runs.append(_sync(zoho))
        edits = zoho.simulator.activity.edits  # type: ignore[union-attr]

        assert all(run.status == SyncStatus.SUCCEEDED for run in runs)
        assert sum(run.fetched for run in runs) >= len({edit.deal_id for edit in edits}) > 0
        assert _stored() == _in_zoho(zoho)
        reported = set(
            ChangeEvent.objects.filter(pk__gt=after_full or 0).values_list(
                "opportunity__zoho_id", flat=True
            )
        )
        noticed = {"push_closing_date", "new_deal", "win", "lose"}
        assert {edit.deal_id for edit in edits if edit.action in noticed} <= reported


@pytest.mark.django_db
def test_nothing_changed_is_one_call_answered_304(zoho: Zoho) -> None:
    _sync(zoho)
    zoho.server.reset_calls()
    run = _sync(zoho)
    assert run.fetched == 0
    assert zoho.statuses(DEALS_PATH) == [304]


@pytest.mark.django_db
def test_token_expiry_mid_run_costs_one_refresh_and_no_page(zoho: Zoho) -> None:
    def expire_after_first_page(run: SyncRun) -> None:
        if run.pages == 1:
            zoho.simulator.expire_tokens()

    run = _sync(zoho, SyncKind.FULL, progress=expire_after_first_page)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.created == 300
    assert zoho.statuses(DEALS_PATH).count(401) == 1


@pytest.mark.django_db
def test_with_a_fifth_of_calls_failing_the_result_equals_zoho() -> None:
    with _zoho(1000) as zoho:
        _sync_through_faults(zoho)


def _sync_through_faults(zoho: Zoho) -> None:
    faults = (
        Fault.RATE_LIMITED,
        Fault.RATE_LIMITED_NO_RETRY_AFTER,
        Fault.SERVER_ERROR,
        Fault.TIMEOUT,
    )
    zoho.simulator.faults.fail_randomly(0.2, faults, path_prefix="/crm/v8", seed=7)
    first = _sync(zoho)
    zoho.simulator.clock.advance(timedelta(minutes=2))
    ids = [deal["id"] for deal in zoho.simulator.deals()]
    for deal_id in ids[:250]:
        zoho.simulator.modify_deal(deal_id, {"Amount": 777.77})
    zoho.simulator.delete_deals(ids[250:260])
    second = _sync(zoho)

    assert (first.status, second.status) == (SyncStatus.SUCCEEDED, SyncStatus.SUCCEEDED)
    assert len(zoho.simulator.faults.injected) >= 3, "the faults must really have happened"
    assert (second.updated, second.deleted) == (250, 10)
    assert _stored() == _in_zoho(zoho)


@pytest.mark.django_db
def test_a_run_that_dies_after_page_k_is_completed_by_the_next_without_duplicates(
    zoho: Zoho,
) -> None:
    _sync(zoho)  # the full sync
    zoho.simulator.clock.advance(timedelta(minutes=2))
    ids = [deal["id"] for deal in zoho.simulator.deals()]
    for number, deal_id in enumerate(ids[:250]):
        zoho.simulator.clock.advance(timedelta(seconds=1))
        zoho.simulator.modify_deal(deal_id, {"Amount": 1000 + number})

    outage = [Fault.SERVER_ERROR] * 6  # every attempt the client makes

    def outage_after_first_page(run: SyncRun) -> None:
        if run.pages == 1 and outage:
            zoho.simulator.faults.fail_next(*outage, path_prefix=DEALS_PATH)
            outage.clear()

    crashed = _sync(zoho, progress=outage_after_first_page)
    assert crashed.status == SyncStatus.FAILED
    assert "500" in crashed.error
    assert crashed.updated == 200

    resumed = _sync(zoho)
    assert resumed.status == SyncStatus.SUCCEEDED
    assert resumed.updated == 50
    assert Opportunity.objects.count() == 300
    assert _stored() == _in_zoho(zoho)


@pytest.mark.django_db
def test_malformed_records_are_reported_with_their_ids_and_skipped(zoho: Zoho) -> None:
    kinds = ("bad_date", "long_name", "negative_amount", "bad_probability", "unknown_currency")
    skipped = {kind: zoho.simulator.inject_malformed(kind) for kind in kinds}
    stored = {"missing_amount": zoho.simulator.inject_malformed("missing_amount")}
    # A well-formed ISO code nobody has a rate for: stored, not converted, reported.
    stored["unrated_currency"] = zoho.simulator.add_deals(1)[0]
    zoho.simulator.modify_deal(stored["unrated_currency"], {"Currency": "XOF"})

    run = _sync(zoho)

    assert run.status == SyncStatus.SUCCEEDED
    assert run.skipped == 5
    issues = {issue.zoho_id: issue for issue in SyncIssue.objects.filter(run=run)}
    for kind, deal_id in skipped.items():
        assert issues[deal_id].severity == "skipped", kind
        assert not Opportunity.objects.filter(zoho_id=deal_id).exists()
    for kind, deal_id in stored.items():
        assert issues[deal_id].severity == "warning", kind
        assert Opportunity.objects.get(zoho_id=deal_id).amount_sgd is None
    assert "DOGE" in issues[skipped["unknown_currency"]].reason
    assert "XOF" in issues[stored["unrated_currency"]].reason
    assert Opportunity.objects.count() == 302


@pytest.mark.django_db(transaction=True)  # the threads must see committed runs
def test_concurrent_triggers_make_one_run(zoho: Zoho) -> None:
    first_page_done, may_continue = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def hold_after_first_page(run: SyncRun) -> None:
        if run.pages == 1:
            first_page_done.set()
            may_continue.wait(timeout=30)

    def first() -> None:
        try:
            outcome["first"] = _sync(zoho, SyncKind.FULL, progress=hold_after_first_page)
        finally:
            from django.db import connection

            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert first_page_done.wait(timeout=30)
    with pytest.raises(SyncAlreadyRunning):
        _sync(zoho, SyncKind.FULL)
    may_continue.set()
    thread.join(timeout=60)
    assert isinstance(outcome["first"], SyncRun)
    assert outcome["first"].status == SyncStatus.SUCCEEDED
    assert SyncRun.objects.count() == 1
