"""The sync service: pages in, counts and watermark out, exactly once, whatever fails."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from currency.tests.factories import ExchangeRateFactory
from opportunities.models import Account, CrmUser, Opportunity
from opportunities.records import CrmStageRecord
from opportunities.services.crm import crm_page_apply
from opportunities.stage_rules import StageRules
from sync import run_lock
from sync.models import SyncIssue, SyncKind, SyncRun, SyncState, SyncStatus, SyncTrigger
from sync.services import SyncAlreadyRunning, sync_run_start, zoho_sync
from sync.tests.fakes import BASE_TIME, FakeDealSource, deal_record
from sync.tests.locks import sync_lock_held_elsewhere
from sync.zoho import ZohoAuthError
from sync.zoho.records import DeletedDeal, MalformedDeal

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _usd_rates() -> None:
    ExchangeRateFactory.create(currency="SGD", units_per_usd=Decimal("1.35"))
    ExchangeRateFactory.create(currency="USD", units_per_usd=Decimal("1"))


def _sync(source: FakeDealSource, kind: str = SyncKind.INCREMENTAL) -> SyncRun:
    return zoho_sync(kind=kind, trigger=SyncTrigger.COMMAND, source=source)


def test_first_sync_is_full_and_stores_every_deal_with_its_references() -> None:
    source = FakeDealSource([deal_record(n) for n in range(450)], page_size=200)
    run = _sync(source)
    assert (run.kind, run.status) == (SyncKind.FULL, SyncStatus.SUCCEEDED)
    # 3 pages, and the stage metadata a full run reads first.
    assert (run.fetched, run.created, run.updated, run.pages, run.api_calls) == (450, 450, 0, 3, 4)
    assert Opportunity.objects.count() == 450
    assert Account.objects.count() == 7
    assert CrmUser.objects.count() == 3
    deal = Opportunity.objects.select_related("owner", "account").get(
        zoho_id=deal_record(5).zoho_id
    )
    assert deal.owner is not None
    assert deal.owner.email == "owner2@example.com"
    assert deal.amount == Decimal("1005.00")
    assert deal.amount_sgd == Decimal("1356.75")  # 1005.00 USD x 1.35
    assert (deal.phase, deal.outcome) == (1, "open")
    assert deal.zoho_values["amount"] == "1005.00"


def test_unchanged_deals_are_not_rewritten() -> None:
    source = FakeDealSource([deal_record(n) for n in range(20)])
    _sync(source, SyncKind.FULL)
    again = _sync(source, SyncKind.FULL)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 20)


def test_full_sync_marks_deals_missing_from_zoho_as_deleted() -> None:
    source = FakeDealSource([deal_record(n) for n in range(5)])
    _sync(source, SyncKind.FULL)
    del source.deals[deal_record(3).zoho_id]
    run = _sync(source, SyncKind.FULL)
    assert run.deleted == 1
    assert Opportunity.objects.get(zoho_id=deal_record(3).zoho_id).is_deleted
    assert Opportunity.objects.live().count() == 4


def test_incremental_fetches_changes_since_the_watermark_and_applies_deletions() -> None:
    source = FakeDealSource([deal_record(n) for n in range(10)])
    _sync(source)
    watermark = SyncState.load().modified_watermark
    assert watermark == deal_record(9).zoho_modified_time

    later = BASE_TIME + timedelta(days=1)
    source.modify(
        deal_record(2).zoho_id, stage="Closed Won", probability=100, zoho_modified_time=later
    )
    deleted_at = timezone.now()
    source.deleted = [DeletedDeal(zoho_id=deal_record(4).zoho_id, deleted_time=deleted_at)]
    run = _sync(source)

    assert run.kind == SyncKind.INCREMENTAL
    assert (run.fetched, run.updated, run.deleted) == (1, 1, 1)
    assert source.requests[-2] == ("deals", watermark)
    won = Opportunity.objects.get(zoho_id=deal_record(2).zoho_id)
    assert (won.phase, won.outcome) == (4, "won")
    gone = Opportunity.objects.get(zoho_id=deal_record(4).zoho_id)
    assert (gone.is_deleted, gone.deleted_at) == (True, deleted_at)
    assert SyncState.load().modified_watermark == later


def test_nothing_changed_costs_one_call_for_deals() -> None:
    source = FakeDealSource([deal_record(n) for n in range(3)])
    _sync(source)
    run = _sync(source)
    assert (run.fetched, run.pages) == (0, 0)
    assert run.api_calls == 2  # the deals call (answered "not modified") and the deletions call


def test_malformed_records_are_reported_and_skipped_without_stopping_the_run() -> None:
    bad = MalformedDeal(
        zoho_id="6000000999999999999",
        reason="Closing_Date '2026-13-40' is not a date",
        zoho_modified_time=BASE_TIME,
    )
    source = FakeDealSource(
        [deal_record(1), deal_record(2, amount=None), deal_record(3, currency="XOF")],
        malformed=[bad],
    )
    run = _sync(source)
    assert run.status == SyncStatus.SUCCEEDED
    assert (run.fetched, run.created, run.skipped) == (4, 3, 1)
    issues = {
        issue.zoho_id: (issue.severity, issue.reason) for issue in SyncIssue.objects.filter(run=run)
    }
    assert issues[bad.zoho_id] == ("skipped", bad.reason)
    assert issues[deal_record(2).zoho_id][0] == "warning"
    assert "XOF" in issues[deal_record(3).zoho_id][1]
    assert Opportunity.objects.get(zoho_id=deal_record(3).zoho_id).amount_sgd is None


def test_a_row_the_database_refuses_fails_alone() -> None:
    source = FakeDealSource([deal_record(1), deal_record(2, probability=150), deal_record(3)])
    run = _sync(source)
    assert run.status == SyncStatus.SUCCEEDED
    assert (run.created, run.failed) == (2, 1)
    issue = SyncIssue.objects.get(run=run, severity="failed")
    assert issue.zoho_id == deal_record(2).zoho_id


def test_text_the_database_cannot_hold_fails_its_row_alone() -> None:
    source = FakeDealSource(
        [deal_record(1), deal_record(2, name="Deal \x00"), deal_record(3, territory="\ud800")]
    )
    run = _sync(source)
    assert run.status == SyncStatus.SUCCEEDED
    assert (run.created, run.failed) == (1, 2)
    failed = SyncIssue.objects.filter(run=run, severity="failed").values_list("zoho_id", flat=True)
    assert set(failed) == {deal_record(2).zoho_id, deal_record(3).zoho_id}

    # A stored deal's new values with a NUL: the page is compared and written all the same.
    from currency.services import sgd_converter

    later = BASE_TIME + timedelta(days=1)
    page = [deal_record(1, name="Deal \x00", zoho_modified_time=later), deal_record(4)]
    result = crm_page_apply(deals=page, converter=sgd_converter(), rules=StageRules.load())
    assert (result.failed, result.created) == (1, 1)
    assert Opportunity.objects.get(zoho_id=deal_record(1).zoho_id).name == "Deal 1"


def test_a_crash_after_page_k_loses_and_duplicates_nothing() -> None:
    deals = [deal_record(n) for n in range(50)]
    _sync(FakeDealSource(deals[:10]))  # a first full sync, so the next runs are incremental
    later = BASE_TIME + timedelta(days=2)
    changed = [deal_record(n, zoho_modified_time=later + timedelta(seconds=n)) for n in range(50)]
    crashing = FakeDealSource(changed, page_size=10, fail_after_pages=2)
    failed = _sync(crashing)
    assert failed.status == SyncStatus.FAILED
    assert "500" in failed.error
    assert failed.fetched == 20
    # The watermark stands at the last committed page (minus the overlap second).
    assert SyncState.load().modified_watermark == changed[19].zoho_modified_time - timedelta(
        seconds=1
    )

    healthy = FakeDealSource(changed, page_size=10)
    resumed = _sync(healthy)
    assert resumed.status == SyncStatus.SUCCEEDED
    assert Opportunity.objects.count() == 50
    assert Opportunity.objects.filter(zoho_modified_time__gte=later).count() == 50
    assert resumed.fetched == 31  # 30 unseen deals and the overlapping last second


def test_only_one_sync_runs_at_a_time() -> None:
    running = sync_run_start(kind=SyncKind.FULL, trigger=SyncTrigger.SCHEDULE)
    with pytest.raises(SyncAlreadyRunning) as raised:
        sync_run_start(kind=SyncKind.INCREMENTAL, trigger=SyncTrigger.MANUAL)
    assert raised.value.run == running


def test_a_run_whose_session_ended_stops_blocking_at_once() -> None:
    orphan = sync_run_start(kind=SyncKind.FULL, trigger=SyncTrigger.SCHEDULE)
    with pytest.raises(SyncAlreadyRunning):
        _sync(FakeDealSource([deal_record(1)]))
    run_lock.release()  # what the database does when the orphan's process dies
    run = _sync(FakeDealSource([deal_record(1)]))
    assert run.status == SyncStatus.SUCCEEDED
    orphan.refresh_from_db()
    assert (orphan.status, orphan.error.split(":")[0]) == (SyncStatus.FAILED, "Abandoned")
    assert not sync_lock_held_elsewhere()


def test_a_broken_connection_fails_the_run_with_the_error_recorded() -> None:
    run = zoho_sync(kind=SyncKind.FULL, trigger=SyncTrigger.COMMAND)  # no Zoho configured here
    assert run.status == SyncStatus.FAILED
    assert run.error
    assert not SyncRun.objects.running().exists()


@pytest.mark.parametrize("size", [10, 200])
def test_a_page_is_stored_in_a_fixed_number_of_queries(size: int) -> None:
    from currency.services import sgd_converter

    deals = [deal_record(n) for n in range(size)]
    rules, converter = StageRules.load(), sgd_converter()
    with CaptureQueriesContext(connection) as queries:
        crm_page_apply(deals=deals, converter=converter, rules=rules)
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    # Accounts upsert + ids, owners upsert + ids, existing deals, thresholds (new deals are
    # inserted with their health), the staging table and the deals upsert (its COPY goes
    # around Django's cursor); then when history started (first pipeline move), and the new
    # deals' transitions, events and pipeline moves.
    assert len(statements) == 12, [s[:70] for s in statements]

    later = BASE_TIME + timedelta(days=1)
    changed = [deal_record(n, amount=Decimal(5), zoho_modified_time=later) for n in range(size)]
    new = [deal_record(n) for n in range(size, 2 * size)]
    with CaptureQueriesContext(connection) as queries:
        crm_page_apply(deals=changed + new, converter=converter, rules=rules)
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    # The same, and for the changed deals: their stored rows, the rows after, their events
    # and pipeline moves, then their health (thresholds, read, write).
    assert len(statements) == 19, [s[:70] for s in statements]


def test_a_new_deal_is_stored_with_the_health_a_rescore_gives_it() -> None:
    from currency.services import sgd_converter
    from opportunities.services.health import health_recompute

    past = BASE_TIME.date() - timedelta(days=40)
    deals = [
        deal_record(1),
        deal_record(2, amount=None),
        deal_record(3, currency="XOF"),
        deal_record(4, closing_date=past),
        deal_record(5, stage="Closed Won", probability=100, closing_date=past),
        deal_record(6, stage="Closed Lost", probability=0),
        deal_record(7, po_received_on=past, probability=20),
        deal_record(8, probability=90, zoho_modified_time=BASE_TIME - timedelta(days=90)),
    ]
    crm_page_apply(deals=deals, converter=sgd_converter(), rules=StageRules.load())
    fields = ("zoho_id", "health_status", "health_reasons")
    stored = list(Opportunity.objects.order_by("pk").values_list(*fields))
    assert not Opportunity.objects.filter(health_computed_at__isnull=True).exists()

    health_recompute(opportunity_ids=Opportunity.objects.values_list("pk", flat=True))

    assert list(Opportunity.objects.order_by("pk").values_list(*fields)) == stored
    assert len({status for _, status, _ in stored}) > 2, stored


def test_the_run_counts_stages_nobody_has_mapped() -> None:
    deals = [
        deal_record(1, stage="Shortlisted"),
        deal_record(2, stage="Verbal OK (90)"),
        deal_record(3),
    ]
    run = _sync(FakeDealSource(deals))
    assert run.unmapped_stages == 2


def test_the_crms_stage_metadata_decides_unmapped_stages_and_its_absence_stops_nothing() -> None:
    dropped = CrmStageRecord(name="Dropped", forecast_type="closed_lost", probability=0)
    deals = [deal_record(1, stage="Dropped", probability=0, closing_date=BASE_TIME.date())]
    run = _sync(FakeDealSource(deals, stages=[dropped]), SyncKind.FULL)
    assert run.status == SyncStatus.SUCCEEDED
    deal = Opportunity.objects.get()
    # Not an open deal whose closing date passed (Danger): a lost one (Neutral).
    assert (deal.outcome, deal.health_status) == ("lost", "neutral")
    assert run.unmapped_stages == 1  # still listed for an admin to map


def test_unreadable_stage_metadata_falls_back_on_the_probability() -> None:
    refused = ZohoAuthError("get deal stage metadata: Zoho refused access (OAUTH_SCOPE_MISMATCH)")
    deals = [deal_record(1, stage="Dropped", probability=0)]
    run = _sync(FakeDealSource(deals, stages=refused), SyncKind.FULL)
    assert run.status == SyncStatus.SUCCEEDED
    assert Opportunity.objects.get().outcome == "open"


def test_an_incremental_run_reads_the_metadata_only_for_a_stage_nothing_knows() -> None:
    source = FakeDealSource([deal_record(1)], stages=[])
    _sync(source, SyncKind.FULL)
    source.requests.clear()
    source.modify(deal_record(1).zoho_id, zoho_modified_time=BASE_TIME + timedelta(days=1))
    _sync(source)
    assert ("stages", None) not in source.requests  # Qualification is mapped
    source.modify(
        deal_record(1).zoho_id, stage="Dropped", zoho_modified_time=BASE_TIME + timedelta(days=2)
    )
    source.stages = [CrmStageRecord(name="Dropped", forecast_type="closed_lost", probability=0)]
    _sync(source)
    assert source.requests.count(("stages", None)) == 1
    assert Opportunity.objects.get().outcome == "lost"
