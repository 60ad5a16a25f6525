"""Two-way sync integrity (issue #23), end to end: the real Zoho client against the simulator
over HTTP, on PostgreSQL. Each test is one way the loop used to lose data: a Zoho change
overwritten, deletions lost, a mixed amount and currency, a big amount change settled
automatically, one bad edit blocking every push, a deal left with yesterday's health."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import Settings

from currency.client import UsdRates
from currency.conversion import effective_rates_invalidate
from currency.services import fx_rates_store
from currency.tests.factories import ExchangeRateFactory
from opportunities.models import Conflict, ConflictStatus, Opportunity
from opportunities.roles import Role
from opportunities.selectors import pipeline_summary
from opportunities.services.edits import opportunity_edit
from opportunities.services.health import health_recompute
from opportunities.services.writeback import refused_edit_send_again
from opportunities.tests.factories import UserFactory
from simulator.clock import SimulatorClock
from simulator.faults import Fault
from sync.models import IssueSeverity, SyncIssue, SyncKind, SyncRun, SyncState, SyncTrigger
from sync.services import pull as sync_pull
from sync.services import zoho_push, zoho_sync
from sync.tests.zoho_helpers import Zoho, serve_zoho

pytestmark = pytest.mark.django_db
DEALS_PATH = "/crm/v8/Deals"
DELETED_PATH = "/crm/v8/Deals/deleted"
CENT = Decimal("0.01")
LONG_NAME = "Regional rollout " + "x" * 140


def _synced_org(deals: int) -> Iterator[Zoho]:
    # An org a while behind our clock, fully synced once: as most are when a push runs.
    clock = SimulatorClock(timezone.now().replace(microsecond=0) - timedelta(hours=2))
    with serve_zoho(deals=deals, clock=clock) as zoho:
        assert _pull(zoho, SyncKind.FULL).status == "succeeded"
        yield zoho


@pytest.fixture
def org() -> Iterator[Zoho]:
    yield from _synced_org(60)


@pytest.fixture
def manager() -> Any:
    return UserFactory.create(role=Role.MANAGER)


def _pull(zoho: Zoho, kind: str = SyncKind.INCREMENTAL) -> SyncRun:
    return zoho_sync(kind=kind, trigger=SyncTrigger.COMMAND, source=zoho.client())


def _push(zoho: Zoho) -> SyncRun:
    run = zoho_push(trigger=SyncTrigger.EDIT, target=zoho.client())
    assert run is not None, "there was something to push"
    return run


def _open_deal(zoho: Zoho, *, currency: str | None = None, skip: int = 0) -> Opportunity:
    deals = Opportunity.objects.live().filter(outcome="open", amount__gt=1000).order_by("pk")
    if currency:
        deals = deals.filter(currency=currency)
    return deals[skip]


def _zoho_amount(zoho: Zoho, deal: Opportunity) -> Decimal:
    return Decimal(str(zoho.simulator.deal(deal.zoho_id)["Amount"]))


# --- 1. A Zoho change a pull could not store is never overwritten ---------------------------


def test_a_zoho_change_in_a_malformed_record_is_not_overwritten_by_a_push(
    org: Zoho, manager: Any
) -> None:
    deal = _open_deal(org)
    base = deal.amount
    assert base is not None
    # Which deal comes first depends on the data set's day: its amount may have cents.
    edited = (base * Decimal("1.05")).quantize(Decimal("0.01"))
    opportunity_edit(deal=deal, user=manager, changes={"amount": edited})
    org.simulator.clock.advance(timedelta(minutes=1))
    # One save in Zoho doubles the amount and leaves a name Pipeline Pulse cannot store.
    org.simulator.modify_deal(deal.zoho_id, {"Amount": base * 2, "Deal_Name": LONG_NAME})
    org.simulator.clock.advance(timedelta(minutes=10))

    pull = _pull(org)
    push = _push(org)

    assert pull.skipped == 1
    assert _zoho_amount(org, deal) == base * 2  # Zoho's change stands
    deal.refresh_from_db()
    assert deal.pending_fields == ["amount"]
    assert "Deal_Name" in deal.zoho_unreadable
    assert push.issues.get(zoho_id=deal.zoho_id).reason.startswith("Not pushed: Zoho's newest")

    # Fixed in Zoho, the record is read and merged: both sides moved the amount, by more
    # than 20%, so a person decides.
    org.simulator.clock.advance(timedelta(minutes=1))
    org.simulator.modify_deal(deal.zoho_id, {"Deal_Name": "Regional rollout"})
    org.simulator.clock.advance(timedelta(minutes=10))
    _pull(org)
    deal.refresh_from_db()
    assert deal.zoho_unreadable == ""
    conflict = Conflict.objects.get(opportunity=deal, field="amount")
    assert (conflict.status, conflict.strategy) == (ConflictStatus.OPEN, "manual")


def test_a_record_the_database_refused_is_not_overwritten_and_is_read_again(
    org: Zoho, manager: Any
) -> None:
    deal = _open_deal(org)
    opportunity_edit(deal=deal, user=manager, changes={"probability": 35})
    table = Opportunity._meta.db_table
    with connection.cursor() as cursor:  # this org's data breaks a rule of our database
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE wants no pending checks
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT refuse_it CHECK (name <> 'Refused')")
    org.simulator.clock.advance(timedelta(minutes=1))
    org.simulator.modify_deal(deal.zoho_id, {"Deal_Name": "Refused", "Probability": 90})
    org.simulator.clock.advance(timedelta(minutes=10))

    pull = _pull(org)
    _push(org)

    assert pull.failed == 1
    assert org.simulator.deal(deal.zoho_id)["Probability"] == 90
    assert deal.zoho_id in SyncState.load().unread
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT refuse_it")
    org.server.reset_calls()

    again = _pull(org)  # nothing changed in Zoho since: the record is read again by id

    assert again.updated == 1
    assert deal.zoho_id not in SyncState.load().unread
    deal.refresh_from_db()
    assert (deal.name, deal.zoho_unreadable) == ("Refused", "")
    conflict = Conflict.objects.get(opportunity=deal, field="probability")
    assert (conflict.local_value, conflict.zoho_value) == (35, 90)


def test_a_record_that_stays_malformed_costs_one_call_a_run_not_a_reread(org: Zoho) -> None:
    broken = org.simulator.inject_malformed("bad_date")  # a new deal, never stored
    org.simulator.clock.advance(timedelta(minutes=10))
    _pull(org)
    org.simulator.clock.advance(timedelta(minutes=20))
    org.server.reset_calls()

    run = _pull(org)

    assert run.skipped == 1
    assert SyncIssue.objects.get(run=run).severity == IssueSeverity.SKIPPED
    assert broken in SyncState.load().unread
    # 304 for changes, the broken record by id, 204 for deletions.
    assert [call.status for call in org.server.calls] == [304, 200, 204]
    # The watermark went past it: the run did not read everything changed since.
    modified = datetime.fromisoformat(org.simulator.deal(broken)["Modified_Time"])
    assert run.watermark_after == modified


# --- 2. No deletion is lost when a run fails part-way ---------------------------------------


@pytest.fixture
def big_org() -> Iterator[Zoho]:
    yield from _synced_org(320)


def _delete_300(zoho: Zoho) -> list[str]:
    """300 deals deleted in Zoho one second apart, some to the recycle bin, some for good."""
    ids = [deal["id"] for deal in zoho.simulator.deals()][:300]
    for number, deal_id in enumerate(ids):
        zoho.simulator.clock.advance(timedelta(seconds=1))
        zoho.simulator.delete_deals([deal_id], permanent=number % 3 == 0)
    zoho.simulator.clock.advance(timedelta(minutes=10))
    return ids


def _live(ids: list[str]) -> int:
    return Opportunity.objects.live().filter(zoho_id__in=ids).count()


def test_deletions_listed_newest_first_survive_a_failed_second_page(big_org: Zoho) -> None:
    ids = _delete_300(big_org)
    # Every attempt at page 2 of the deleted records fails: the run gives up there.
    big_org.simulator.faults.fail_next(
        *[Fault.SERVER_ERROR] * 6, path_prefix=DELETED_PATH, query={"page": "2"}
    )

    failed = _pull(big_org)

    assert failed.status == "failed"
    assert _live(ids) == 300  # nothing applied from a list not read to its end
    resumed = _pull(big_org)
    assert (resumed.status, resumed.deleted) == ("succeeded", 300)
    assert _live(ids) == 0


@pytest.mark.parametrize("newest_first", [False, True], ids=["oldest-first", "newest-first"])
def test_the_deleted_list_is_read_to_its_end_past_zohos_page_limit(
    big_org: Zoho, newest_first: bool
) -> None:
    big_org.simulator.deleted_newest_first = newest_first
    big_org.simulator.deleted_page_limit = 200  # like Get Records' 2,000, smaller
    ids = _delete_300(big_org)

    run = _pull(big_org)

    assert run.status == "succeeded", run.error
    assert (run.deleted, _live(ids)) == (300, 0)
    assert _live([deal["id"] for deal in big_org.simulator.deals()]) == 20
    read_every_deal = run.issues.filter(reason__startswith="Every deal read").exists()
    # Oldest first, the rest is asked for from the last deletion read; newest first, it
    # cannot be, and the run reads every deal instead.
    assert read_every_deal is newest_first


# --- 3 and 4. Amount and currency merge as one value; the 20% rule reads each side's move --


@pytest.fixture
def rates() -> None:
    """USD and SGD rates: SGD 1.35 to the dollar."""
    as_of = timezone.now() - timedelta(days=1)
    ExchangeRateFactory.create(currency="USD", units_per_usd=Decimal("1"), as_of=as_of)
    ExchangeRateFactory.create(currency="SGD", units_per_usd=Decimal("1.35"), as_of=as_of)
    effective_rates_invalidate()  # stored behind the rates service's back


def _usd_deal_at(zoho: Zoho, amount: str) -> Opportunity:
    """An open USD deal whose amount in Zoho, and last seen from Zoho, is `amount`."""
    deal = _open_deal(zoho, currency="USD")
    zoho.simulator.clock.advance(timedelta(minutes=1))
    zoho.simulator.modify_deal(deal.zoho_id, {"Amount": Decimal(amount)})
    zoho.simulator.clock.advance(timedelta(minutes=10))
    _pull(zoho)
    deal.refresh_from_db()
    assert (deal.amount, deal.currency, deal.pending_fields) == (Decimal(amount), "USD", [])
    return deal


def test_amount_and_currency_never_end_up_one_from_each_side(
    org: Zoho, manager: Any, rates: None
) -> None:
    deal = _usd_deal_at(org, "134845.00")
    # Re-entered here as the same value in SGD; in Zoho the USD amount is revised by 10%.
    opportunity_edit(deal=deal, user=manager, changes={"amount": "182040.75", "currency": "SGD"})
    org.simulator.clock.advance(timedelta(minutes=1))
    org.simulator.modify_deal(deal.zoho_id, {"Amount": Decimal("148329.50")})
    org.simulator.clock.advance(timedelta(minutes=10))

    _pull(org)  # crm_wins (the default): Zoho's amount, and Zoho's currency with it

    deal.refresh_from_db()
    assert (deal.amount, deal.currency, deal.pending_fields) == (
        Decimal("148329.50"),
        "USD",
        [],
    )
    assert deal.amount_sgd == Decimal("200244.83")  # 148,329.50 times 1.35, not 148,329.50
    settled = Conflict.objects.filter(opportunity=deal).values_list("field", "resolution")
    assert set(settled) == {("amount", "took_zoho"), ("currency", "took_zoho")}
    assert zoho_push(trigger=SyncTrigger.EDIT, target=org.client()) is None
    in_zoho = org.simulator.deal(deal.zoho_id)
    assert (Decimal(str(in_zoho["Amount"])), in_zoho["Currency"]) == (
        Decimal("148329.50"),
        "USD",
    )


def test_a_30_percent_edit_against_a_5_percent_zoho_change_waits_for_a_person(
    org: Zoho, manager: Any, rates: None
) -> None:
    deal = _usd_deal_at(org, "1000.00")
    opportunity_edit(deal=deal, user=manager, changes={"amount": "1300.00"})
    org.simulator.clock.advance(timedelta(minutes=1))
    org.simulator.modify_deal(deal.zoho_id, {"Amount": Decimal("1050.00")})
    org.simulator.clock.advance(timedelta(minutes=10))

    _pull(org)
    pushed = zoho_push(trigger=SyncTrigger.EDIT, target=org.client())

    conflict = Conflict.objects.get(opportunity=deal, field="amount")
    assert (conflict.status, conflict.strategy) == (ConflictStatus.OPEN, "manual")
    values = (conflict.base_value, conflict.local_value, conflict.zoho_value)
    assert [Decimal(str(value)) for value in values] == [1000, 1300, 1050]
    deal.refresh_from_db()
    assert (deal.amount, deal.pending_fields) == (Decimal("1300.00"), ["amount"])
    assert pushed is None  # the amount waits for the Admin, unsent
    assert _zoho_amount(org, deal) == Decimal("1050.00")


# --- 5. One bad amount never stops the push -------------------------------------------------


def test_an_amount_no_zoho_number_carries_is_refused_when_edited(org: Zoho, manager: Any) -> None:
    deal = _open_deal(org)
    with pytest.raises(ValidationError) as refused:
        opportunity_edit(deal=deal, user=manager, changes={"amount": "99,999,999,999,999.99"})
    assert "cannot carry that amount exactly" in refused.value.message_dict["amount"][0]
    with pytest.raises(ValidationError, match="16 digits"):
        opportunity_edit(deal=deal, user=manager, changes={"amount": "100000000000000"})
    # Fifteen significant digits always travel exactly.
    opportunity_edit(deal=deal, user=manager, changes={"amount": "9999999999999.99"})
    assert _push(org).updated == 1
    assert _zoho_amount(org, deal) == Decimal("9999999999999.99")


def test_a_deal_whose_update_cannot_be_written_does_not_hold_back_the_others(
    org: Zoho, manager: Any
) -> None:
    stuck, other = _open_deal(org), _open_deal(org, skip=1)
    # Saved before edits were checked against Zoho's number format.
    Opportunity.objects.filter(pk=stuck.pk).update(
        amount=Decimal("99999999999999.99"), pending_fields=["amount"]
    )
    new_date = timezone.localdate() + timedelta(days=90)
    opportunity_edit(deal=other, user=manager, changes={"closing_date": new_date})

    run = _push(org)

    assert (run.status, run.updated, run.failed) == ("succeeded", 1, 1)
    assert org.simulator.deal(other.zoho_id)["Closing_Date"] == new_date.isoformat()
    stuck.refresh_from_db()
    assert stuck.pending_fields == []
    assert stuck.refused_values == {"amount": "99999999999999.99"}
    assert stuck.amount == Decimal(stuck.zoho_values["amount"])  # Zoho's, in every total
    assert stuck.push_errors["amount"].startswith("Not sent: 99999999999999.99 has more digits")
    assert "Amount: Not sent" in run.issues.get(zoho_id=stuck.zoho_id).reason


# --- 6. A deal a sync page holds at midnight does not keep yesterday's health ---------------

SGT = ZoneInfo("Asia/Singapore")


@pytest.mark.django_db(transaction=True)  # the sync runs in a thread: it commits for real
def test_the_nightly_run_scores_a_deal_a_sync_page_holds_but_did_not_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    noon = datetime(2026, 6, 15, 12, 0, tzinfo=SGT)
    with serve_zoho(deals=50, clock=SimulatorClock(noon - timedelta(hours=1))) as zoho:
        deal_id = zoho.simulator.deals()[0]["id"]
        zoho.simulator.modify_deal(deal_id, _CLOSING_TODAY)
        with time_machine.travel(noon, tick=True):
            assert _pull(zoho, SyncKind.FULL).status == "succeeded"
        assert Opportunity.objects.get(zoho_id=deal_id).health_status == "success"

        page_locked, done = threading.Event(), threading.Event()
        apply_page = sync_pull.crm_page_apply

        def page_held_open(**kwargs: Any) -> Any:
            # The page has locked its deals and written those that changed (none): its
            # transaction stays open until the nightly run waits for it.
            result = apply_page(**kwargs)
            page_locked.set()
            for _ in range(100):
                if done.is_set() or _waiting_for_a_lock():
                    break
                time.sleep(0.1)
            return result

        monkeypatch.setattr(sync_pull, "crm_page_apply", page_held_open)
        outcome: dict[str, SyncRun] = {}

        def full_sync() -> None:
            try:
                outcome["run"] = _pull(zoho, SyncKind.FULL)
            finally:
                connection.close()

        with time_machine.travel(datetime(2026, 6, 16, 0, 30, tzinfo=SGT), tick=True):
            thread = threading.Thread(target=full_sync)
            thread.start()
            try:
                assert page_locked.wait(timeout=30)
                health_recompute()
            finally:
                done.set()
                thread.join(timeout=60)

    assert (outcome["run"].status, outcome["run"].unchanged) == ("succeeded", 50)
    deal = Opportunity.objects.get(zoho_id=deal_id)
    assert deal.health_status == "danger"
    assert deal.health_reasons[0]["code"] == "closing_date_passed"


# An open deal in phase 3 closing today (2026-06-15), with nothing else wrong.
_CLOSING_TODAY = {
    "Amount": Decimal("250000.00"),
    "Currency": "SGD",
    "Stage": "Negotiation/Review",
    "Probability": 60,
    "Closing_Date": "2026-06-15",
    "Proposal_Submission_date": "2026-06-10",
    "PO_Generation_Date": None,
    "Kick_off_Date": None,
    "Invoice_Date": None,
    "Payment_Received_Date": None,
    "OB_Recognition_Date": None,
}


def _waiting_for_a_lock() -> bool:
    """Whether another session waits for a lock (pg_locks is read afresh every time)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted)")
        return bool(cursor.fetchone()[0])


# --- Zoho refusing a whole request never marks its deals refused --------------------------


def _edit_closing_dates(deals: list[Opportunity], manager: Any) -> date:
    new_date = timezone.localdate() + timedelta(days=120)
    for deal in deals:
        opportunity_edit(deal=deal, user=manager, changes={"closing_date": new_date})
    return new_date


def test_a_request_refused_as_a_whole_leaves_its_100_deals_pending_not_refused(
    org: Zoho, manager: Any
) -> None:
    deals = list(Opportunity.objects.live().order_by("pk")[:30])
    new_date = _edit_closing_dates(deals, manager)
    org.simulator.refuse_update_requests(3)  # the request, then both of its halves

    run = _push(org)

    assert run.status == "failed"
    assert "refused whole update requests" in run.error
    assert run.failed == 30
    assert not Opportunity.objects.exclude(refused_values={}).exists()
    assert Opportunity.objects.exclude(pending_fields=[]).count() == 30
    assert sum(1 for call in org.server.calls if call.method == "PUT") == 3
    again = _push(org)
    assert (again.status, again.updated) == ("succeeded", 30)
    assert org.simulator.deal(deals[0].zoho_id)["Closing_Date"] == new_date.isoformat()


def test_one_record_that_makes_zoho_refuse_the_request_is_found_and_the_rest_go(
    org: Zoho, manager: Any
) -> None:
    deals = list(Opportunity.objects.live().order_by("pk")[:40])
    new_date = _edit_closing_dates(deals, manager)
    culprit = deals[17]
    org.simulator.refuse_requests_carrying(culprit.zoho_id)

    run = _push(org)

    assert (run.status, run.updated, run.failed) == ("succeeded", 39, 1)
    assert org.simulator.deal(deals[0].zoho_id)["Closing_Date"] == new_date.isoformat()
    culprit.refresh_from_db()
    assert culprit.pending_fields == []
    assert culprit.push_errors["closing_date"] == "INVALID_DATA: body"
    assert sum(1 for call in org.server.calls if call.method == "PUT") <= 1 + 2 * 6


# --- Values Zoho refuses, and edits of deals deleted in Zoho --------------------------------


def test_a_value_zoho_refuses_is_shown_with_its_reason_and_no_longer_counted(
    org: Zoho, manager: Any, rates: None, client: Client, settings: Settings
) -> None:
    # Listed here (an Admin added it), but this org has not enabled it in Zoho.
    settings.FX_CURRENCIES = [*settings.FX_CURRENCIES, "BRL"]
    deal = _usd_deal_at(org, "1000.00")
    ExchangeRateFactory.create(currency="BRL", units_per_usd=Decimal("5"))
    effective_rates_invalidate()
    # This org has not enabled Brazilian reals: Zoho will refuse the currency.
    opportunity_edit(deal=deal, user=manager, changes={"amount": "50000", "currency": "BRL"})
    assert _open_pipeline(deal) == Decimal("13500.00")  # counted while on its way

    run = _push(org)

    deal.refresh_from_db()
    assert (deal.amount, deal.currency, deal.pending_fields) == (Decimal("1000.00"), "USD", [])
    assert deal.refused_values == {"amount": "50000.00", "currency": "BRL"}
    assert _open_pipeline(deal) == Decimal("1350.00")  # Zoho's value, as Zoho holds it
    assert "Zoho refused Amount, Currency" in run.issues.get().reason
    client.force_login(manager)
    page = client.get(reverse("deal", args=[deal.pk])).content.decode()
    assert "Zoho refused it: INVALID_DATA: invalid data" in page
    assert "Send BRL 50,000.00 again" in page

    dropped = client.post(
        reverse("deal_refused_decide", args=[deal.pk, "currency"]), {"action": "drop"}
    )

    assert dropped.status_code == 302
    deal.refresh_from_db()
    assert (deal.refused_values, deal.push_errors) == ({}, {})
    latest = deal.history.order_by("-history_id").first()
    assert latest is not None
    assert latest.history_change_reason == "Value set aside dropped: Amount, Currency"
    assert latest.history_user == manager


def test_an_edit_of_a_deal_deleted_in_zoho_is_reported_kept_and_not_sent_after_a_restore(
    org: Zoho, manager: Any
) -> None:
    deal = _open_deal(org)
    opportunity_edit(deal=deal, user=manager, changes={"probability": 15})
    org.simulator.clock.advance(timedelta(minutes=1))
    org.simulator.delete_deals([deal.zoho_id])
    org.simulator.clock.advance(timedelta(minutes=10))

    pull = _pull(org)

    deal.refresh_from_db()
    assert (deal.is_deleted, deal.pending_fields, deal.refused_values) == (
        True,
        [],
        {"probability": 15},
    )
    assert deal.push_errors["probability"].startswith("Not sent: the deal was deleted in Zoho")
    issue = pull.issues.get(zoho_id=deal.zoho_id)
    assert (issue.severity, issue.reason[:46]) == (
        "warning",
        "Deleted in Zoho with edits not sent (Probabili",
    )
    assert deal.history.filter(history_change_reason__startswith="Deleted in Zoho").exists()
    assert zoho_push(trigger=SyncTrigger.EDIT, target=org.client()) is None

    # Restored from the recycle bin: back with Zoho's values; the edit waits for a person.
    org.simulator.clock.advance(timedelta(minutes=1))
    org.simulator.restore_deals([deal.zoho_id])
    org.simulator.clock.advance(timedelta(minutes=10))
    _pull(org)
    deal.refresh_from_db()
    in_zoho = org.simulator.deal(deal.zoho_id)["Probability"]
    assert (deal.is_deleted, deal.probability, deal.refused_values) == (
        False,
        in_zoho,
        {"probability": 15},
    )
    assert zoho_push(trigger=SyncTrigger.EDIT, target=org.client()) is None

    refused_edit_send_again(deal=deal, user=manager, field="probability")

    assert _push(org).updated == 1
    assert org.simulator.deal(deal.zoho_id)["Probability"] == 15
    deal.refresh_from_db()
    assert (deal.refused_values, deal.push_errors, deal.pending_fields) == ({}, {}, [])


def _open_pipeline(deal: Opportunity) -> Decimal:
    return pipeline_summary(Opportunity.objects.filter(pk=deal.pk)).open_pipeline_sgd


# --- A rate refresh committed during a sync is used by the pages after it -----------------


def test_pages_after_a_rate_refresh_convert_at_the_new_rates(rates: None) -> None:
    clock = SimulatorClock(timezone.now().replace(microsecond=0) - timedelta(hours=1))
    with serve_zoho(deals=450, clock=clock) as zoho:

        def refresh_after_first_page(run: SyncRun) -> None:
            if run.pages == 1:
                fx_rates_store(
                    rates=UsdRates(
                        as_of=timezone.now(),
                        units_per_usd={"USD": Decimal("1"), "SGD": Decimal("1.40")},
                        missing=(),
                    )
                )

        run = zoho_sync(
            kind=SyncKind.FULL,
            trigger=SyncTrigger.COMMAND,
            source=zoho.client(),
            progress=refresh_after_first_page,
        )

    assert (run.status, run.pages) == ("succeeded", 3)
    usd = Opportunity.objects.open().filter(currency="USD", amount__isnull=False)
    assert usd.count() > 20
    for amount, amount_sgd in usd.values_list("amount", "amount_sgd"):
        assert amount is not None
        assert amount_sgd == (amount * Decimal("1.40")).quantize(CENT, ROUND_HALF_UP), amount
