"""Zoho notifications end to end: the simulator's channel, its callbacks over real HTTP to a
running server, the fetch of exactly the notified deals, renewal before expiry."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from pytest_django import Settings

from opportunities.models import ChangeEvent, Opportunity
from opportunities.roles import Role
from opportunities.services.edits import opportunity_edit
from opportunities.tests.factories import UserFactory
from pipeline_pulse.celery import app as celery_app
from simulator.clock import SimulatorClock
from sync.models import SyncKind, SyncRun, SyncState, SyncStatus, SyncTrigger, ZohoWatchChannel
from sync.run_lock import acquire, release
from sync.services import SyncAlreadyRunning, zoho_sync
from sync.services.pull import zoho_notified_fetch
from sync.services.watch import zoho_watch_ensure
from sync.tasks import zoho_watch_renew
from sync.tests.zoho_helpers import Zoho, serve_zoho
from sync.zoho import ZohoError
from sync.zoho.watch import parse_notification

NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)  # 10:00 in Singapore, a Monday
NOTIFY_PATH = "/zoho/notify/"


@pytest.fixture
def clock() -> Iterator[SimulatorClock]:
    with time_machine.travel(NOW, tick=True):
        # Zoho's clock a little behind ours, frozen: its Modified_Time moves only when told.
        yield SimulatorClock(NOW - timedelta(minutes=30))


@pytest.fixture
def org(clock: SimulatorClock, settings: Settings) -> Iterator[Zoho]:
    with serve_zoho(deals=25, clock=clock) as zoho:
        for name, value in zoho.simulator.environment(zoho.server.url).items():
            setattr(settings, name, value)
        settings.ZOHO_MAX_ATTEMPTS = 2
        run = zoho_sync(kind=SyncKind.FULL, trigger=SyncTrigger.COMMAND, source=zoho.client())
        assert run.status == SyncStatus.SUCCEEDED, run.error
        yield zoho


@pytest.fixture
def eager(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def _subscribe(org: Zoho, settings: Settings, notify_url: str) -> ZohoWatchChannel:
    settings.ZOHO_NOTIFY_URL = notify_url
    outcome = zoho_watch_ensure(client=org.client())
    assert outcome.action == "subscribed"
    return outcome.channel


def _open_deal() -> Opportunity:
    return Opportunity.objects.live().filter(outcome="open").order_by("pk").first()  # type: ignore[return-value]


def _wait_for(check: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return bool(check())


@pytest.mark.django_db(transaction=True)
def test_a_zoho_edit_reaches_pipeline_pulse_within_seconds_by_callback(
    org: Zoho, settings: Settings, live_server: Any, eager: None
) -> None:
    channel = _subscribe(org, settings, f"{live_server.url}{NOTIFY_PATH}")
    assert org.simulator.watch.channels[channel.channel_id].token == channel.token
    deal = _open_deal()
    watermark = SyncState.load().modified_watermark
    runs_before = SyncRun.objects.count()

    org.simulator.clock.advance(timedelta(minutes=1))
    org.simulator.modify_deal(deal.zoho_id, {"Deal_Name": "Renewal, signed today"})

    # No scheduled run: the callback alone brings it, through a real HTTP request.
    assert _wait_for(lambda: Opportunity.objects.get(pk=deal.pk).name == "Renewal, signed today")
    assert org.simulator.watch.wait_idle()
    assert [d.status for d in org.simulator.watch.deliveries] == [202]
    run = SyncRun.objects.order_by("-pk").first()
    assert run is not None
    assert SyncRun.objects.count() == runs_before + 1
    assert (run.kind, run.trigger, run.status) == (
        SyncKind.NOTIFIED,
        SyncTrigger.NOTIFICATION,
        SyncStatus.SUCCEEDED,
    )
    assert (run.fetched, run.updated, run.api_calls) == (1, 1, 1)
    # The notification did not move where the next incremental pull starts.
    assert SyncState.load().modified_watermark == watermark
    assert run.watermark_after == run.watermark_before == watermark
    channel.refresh_from_db()
    assert (channel.callbacks, channel.refused, channel.last_callback_at is not None) == (
        1,
        0,
        True,
    )
    # A new deal and a deletion arrive the same way.
    org.simulator.clock.advance(timedelta(minutes=1))
    (new_id,) = org.simulator.add_deals(1)
    assert _wait_for(lambda: Opportunity.objects.filter(zoho_id=new_id).exists())
    org.simulator.delete_deals([new_id])
    assert _wait_for(lambda: not Opportunity.objects.live().filter(zoho_id=new_id).exists())


def _callback_body(channel: ZohoWatchChannel, ids: list[str], operation: str = "update") -> bytes:
    return json.dumps(
        {
            "server_time": int(NOW.timestamp() * 1000),
            "query_params": {},
            "module": "Deals",
            "resource_uri": "https://www.zohoapis.com/crm/v8/Deals",
            "ids": ids,
            "affected_fields": [],
            "operation": operation,
            "channel_id": channel.channel_id,
            "token": channel.token,
        }
    ).encode()


def _post(client: Client, body: bytes) -> Any:
    return client.post(NOTIFY_PATH, body, content_type="application/json")


@pytest.mark.django_db
def test_a_callback_with_a_wrong_token_is_refused_and_changes_nothing(
    org: Zoho, settings: Settings, client: Client, eager: None
) -> None:
    channel = _subscribe(org, settings, "https://pulse.example.com/zoho/notify/")
    deal = _open_deal()
    org.simulator.clock.advance(timedelta(minutes=1))
    org.simulator.modify_deal(deal.zoho_id, {"Deal_Name": "Changed in Zoho"})
    runs = SyncRun.objects.count()
    calls = len(org.server.calls)

    forged = json.loads(_callback_body(channel, [deal.zoho_id]))
    for token in ("wrong", channel.token[:-1], "", channel.token + "x"):
        response = _post(client, json.dumps({**forged, "token": token}).encode())
        assert response.status_code == 403
    other_channel = {**forged, "channel_id": "1" + channel.channel_id[1:-1] + "9"}
    assert _post(client, json.dumps(other_channel).encode()).status_code == 403

    assert SyncRun.objects.count() == runs
    assert len(org.server.calls) == calls  # nothing was fetched
    assert Opportunity.objects.get(pk=deal.pk).name == deal.name
    channel.refresh_from_db()
    assert (channel.callbacks, channel.refused) == (0, 5)


@pytest.mark.django_db
def test_a_duplicate_callback_changes_nothing(
    org: Zoho, settings: Settings, client: Client, eager: None
) -> None:
    channel = _subscribe(org, settings, "https://pulse.example.com/zoho/notify/")
    deal = _open_deal()
    org.simulator.clock.advance(timedelta(minutes=1))
    org.simulator.modify_deal(deal.zoho_id, {"Amount": Decimal("123456.00")})
    body = _callback_body(channel, [deal.zoho_id])

    assert _post(client, body).status_code == 202
    first = SyncRun.objects.order_by("-pk").first()
    assert first is not None
    assert first.updated == 1
    stored = Opportunity.objects.values().get(pk=deal.pk)
    events = ChangeEvent.objects.count()

    assert _post(client, body).status_code == 202
    second = SyncRun.objects.order_by("-pk").first()
    assert second is not None
    assert second.pk != first.pk
    assert (second.updated, second.unchanged, second.created) == (0, 1, 0)
    again = Opportunity.objects.values().get(pk=deal.pk)
    assert {k: v for k, v in again.items() if k != "synced_at"} == {
        k: v for k, v in stored.items() if k != "synced_at"
    }
    assert ChangeEvent.objects.count() == events


@pytest.mark.django_db
def test_a_notified_fetch_merges_as_a_sync_and_keeps_the_watermark(
    org: Zoho, settings: Settings
) -> None:
    manager = UserFactory.create(role=Role.MANAGER)
    deal = _open_deal()
    opportunity_edit(deal=deal, user=manager, changes={"probability": 35})
    state = SyncState.load()
    watermarks = (state.modified_watermark, state.deleted_watermark)
    org.simulator.clock.advance(timedelta(minutes=1))
    org.simulator.modify_deal(deal.zoho_id, {"Deal_Name": "Renamed in Zoho"})

    run = zoho_notified_fetch(operation="edit", zoho_ids=[deal.zoho_id], source=org.client())

    assert run.status == SyncStatus.SUCCEEDED, run.error
    deal.refresh_from_db()
    # Zoho's change is taken, the local edit waiting for Zoho is kept, as a sync merges.
    assert deal.name == "Renamed in Zoho"
    assert (deal.probability, deal.pending_fields) == (35, ["probability"])
    state.refresh_from_db()
    assert (state.modified_watermark, state.deleted_watermark) == watermarks
    # The data's freshness is still the last full or incremental pull's.
    latest = SyncRun.objects.latest_succeeded()
    assert latest is not None
    assert latest.kind == SyncKind.FULL


@pytest.mark.django_db
def test_a_deletion_is_applied_only_when_zoho_confirms_it(org: Zoho) -> None:
    kept, gone = Opportunity.objects.live().order_by("pk").values_list("zoho_id", flat=True)[:2]
    org.simulator.delete_deals([gone])

    run = zoho_notified_fetch(operation="delete", zoho_ids=[kept, gone], source=org.client())

    assert (run.status, run.deleted) == (SyncStatus.SUCCEEDED, 1)
    assert Opportunity.objects.live().filter(zoho_id=kept).exists()  # Zoho still has it
    assert not Opportunity.objects.live().filter(zoho_id=gone).exists()
    # An edit callback for a deal Zoho no longer has deletes nothing: the pull decides.
    org.simulator.delete_deals([kept])
    zoho_notified_fetch(operation="edit", zoho_ids=[kept], source=org.client())
    assert Opportunity.objects.live().filter(zoho_id=kept).exists()


@pytest.mark.django_db
def test_a_notified_fetch_waits_for_a_running_sync(org: Zoho) -> None:
    assert acquire()
    try:
        with pytest.raises(SyncAlreadyRunning):
            zoho_notified_fetch(operation="edit", zoho_ids=["1"], source=org.client())
    finally:
        release()


@pytest.mark.django_db
def test_the_channel_is_renewed_before_it_expires(
    org: Zoho, settings: Settings, clock: SimulatorClock
) -> None:
    settings.ZOHO_NOTIFY_RENEW_MINUTES = 180
    settings.ZOHO_NOTIFY_URL = "https://pulse.example.com/zoho/notify/"
    with time_machine.travel(NOW, tick=False) as traveller:
        clock.set(NOW)
        assert zoho_watch_renew() == "subscribed"
        channel = ZohoWatchChannel.objects.get()
        first_expiry = channel.expires_at
        assert first_expiry is not None
        # Zoho keeps a channel one day at most: we ask for a little less.
        assert first_expiry - NOW == timedelta(hours=23)
        simulated = org.simulator.watch.channels[channel.channel_id]
        assert simulated.expires_at == first_expiry

        traveller.shift(timedelta(hours=12))
        clock.set(NOW + timedelta(hours=12))
        assert zoho_watch_renew() == "current"  # plenty left: no call

        # Three hours before it lapses, beat's check renews the same channel.
        moment = first_expiry - timedelta(hours=2, minutes=59)
        traveller.move_to(moment)
        clock.set(moment)
        assert zoho_watch_renew() == "renewed"
        channel.refresh_from_db()
        assert channel.expires_at is not None
        assert channel.expires_at > first_expiry
        assert org.simulator.watch.channels[channel.channel_id].expires_at == channel.expires_at
        assert len(org.simulator.watch.channels) == 1


@pytest.mark.django_db
def test_a_lapsed_channel_is_subscribed_again(org: Zoho, settings: Settings) -> None:
    settings.ZOHO_NOTIFY_URL = "https://pulse.example.com/zoho/notify/"
    channel = zoho_watch_ensure(client=org.client()).channel
    org.simulator.watch.channels.clear()  # Zoho forgot it (expired on its side)
    assert zoho_watch_ensure(force=True, client=org.client()).action == "renewed"
    assert channel.channel_id in org.simulator.watch.channels


@pytest.mark.django_db
def test_zoho_refusing_the_channel_is_recorded(org: Zoho, settings: Settings) -> None:
    settings.ZOHO_NOTIFY_URL = "https://pulse.example.com/zoho/notify/"
    settings.ZOHO_NOTIFY_TOKEN = "x" * 50
    settings.ZOHO_NOTIFY_CHANNEL_ID = "12345"
    org.simulator.watch.channels.clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("simulator.zoho_watch.MODULES", ("Leads",))
        with pytest.raises(ZohoError):
            zoho_watch_ensure(client=org.client())
    channel = ZohoWatchChannel.objects.get()
    assert "INVALID_MODULE" in channel.last_error
    assert channel.expires_at is None


@pytest.mark.django_db
def test_the_command_subscribes_or_says_why_not(org: Zoho, settings: Settings) -> None:
    import io

    from django.core.management.base import CommandError

    settings.ZOHO_NOTIFY_URL = ""
    with pytest.raises(CommandError, match="ZOHO_NOTIFY_URL"):
        call_command("zoho_watch", stdout=io.StringIO())
    settings.ZOHO_NOTIFY_URL = "https://pulse.example.com/zoho/notify/"
    out = io.StringIO()
    call_command("zoho_watch", stdout=out)
    assert out.getvalue().startswith("Subscribed: channel ")
    out = io.StringIO()
    call_command("zoho_watch", "--if-due", stdout=out)
    assert out.getvalue().startswith("Still current")


@pytest.mark.django_db
def test_the_endpoint_refuses_what_is_not_a_notification(
    settings: Settings, client: Client
) -> None:
    settings.ZOHO_NOTIFY_URL = ""
    assert _post(client, b"{}").status_code == 404  # off unless configured
    settings.ZOHO_NOTIFY_URL = "https://pulse.example.com/zoho/notify/"
    assert client.get(NOTIFY_PATH).status_code == 405
    assert _post(client, b"not json").status_code == 400
    assert _post(client, b"[" * 5000 + b"]" * 5000).status_code == 400
    assert _post(client, json.dumps({"channel_id": "1", "ids": []}).encode()).status_code == 400
    big = json.dumps({"ids": ["1" * 30] * 10_000}).encode()
    assert _post(client, big).status_code == 413
    # A well-formed callback for a channel we never had.
    body = {"channel_id": "42", "token": "t", "operation": "update", "ids": ["1"]}
    assert _post(client, json.dumps(body).encode()).status_code == 403


def test_callbacks_are_parsed_as_zoho_sends_them() -> None:
    parsed = parse_notification(
        {
            "server_time": 1750000000000,
            "module": "Deals",
            "ids": ["4876876000000624001", 4876876000000624002, "4876876000000624001"],
            "operation": "insert",
            "channel_id": 1000000068002,
            "token": "abc",
            "affected_fields": [],
        }
    )
    assert parsed.operation == "create"
    assert parsed.zoho_ids == ("4876876000000624001", "4876876000000624002")
    assert parsed.channel_id == "1000000068002"
    assert parsed.server_time == datetime(2025, 6, 15, 15, 6, 40, tzinfo=UTC)
    bad: object
    for bad in (
        [],
        {"channel_id": "1", "operation": "merge", "ids": []},
        {"channel_id": "1", "operation": "update", "ids": ["x"]},
        {"channel_id": "1", "operation": "update", "ids": "1"},
        {"channel_id": True, "operation": "update", "ids": []},
        {"channel_id": "1", "operation": "update", "ids": [], "token": 5},
    ):
        with pytest.raises(ValueError, match=r"\w"):
            parse_notification(bad)


@pytest.mark.django_db
def test_the_task_tries_again_later_while_a_sync_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from sync.tasks import NOTIFIED_MAX_RETRIES, NOTIFIED_RETRY_SECONDS, zoho_notified_fetch_task

    class Retried(Exception):
        pass

    countdowns: list[int] = []

    def retry(countdown: int) -> Exception:
        countdowns.append(countdown)
        return Retried()

    monkeypatch.setattr(zoho_notified_fetch_task, "retry", retry)
    assert acquire()
    try:
        for retries, expected in ((0, [NOTIFIED_RETRY_SECONDS]), (NOTIFIED_MAX_RETRIES, [])):
            countdowns.clear()
            zoho_notified_fetch_task.push_request(retries=retries, is_eager=False)
            try:
                if expected:
                    with pytest.raises(Retried):
                        zoho_notified_fetch_task("edit", ["4876876000000624001"])
                else:  # the last try: left to the scheduled pull, no error
                    assert zoho_notified_fetch_task("edit", ["4876876000000624001"]) is None
            finally:
                zoho_notified_fetch_task.pop_request()
            assert countdowns == expected
    finally:
        release()
    assert not SyncRun.objects.exists()


def test_the_worker_subscribes_when_it_starts_if_configured(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync import tasks

    queued: list[str] = []
    monkeypatch.setattr(tasks.zoho_sync_on_startup, "delay", lambda: queued.append("sync"))
    monkeypatch.setattr(
        tasks.zoho_watch_renew, "delay", lambda force: queued.append(f"watch {force}")
    )
    settings.ZOHO_NOTIFY_URL = ""
    tasks._sync_when_worker_starts()
    assert queued == ["sync"]
    settings.ZOHO_NOTIFY_URL = "https://pulse.example.com/zoho/notify/"
    tasks._sync_when_worker_starts()
    assert queued == ["sync", "sync", "watch True"]
    settings.ZOHO_NOTIFY_URL = ""
    assert tasks.zoho_watch_renew() is None  # off: nothing asked of Zoho


@pytest.mark.django_db
def test_a_refused_renewal_keeps_the_token_zoho_still_sends(
    org: Zoho, settings: Settings, client: Client, eager: None
) -> None:
    channel = _subscribe(org, settings, "https://pulse.example.com/zoho/notify/")
    old_token = channel.token
    settings.ZOHO_NOTIFY_TOKEN = "a-new-token"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("simulator.zoho_watch.MODULES", ("Leads",))
        with pytest.raises(ZohoError):
            zoho_watch_ensure(client=org.client())
    channel.refresh_from_db()
    assert channel.token == old_token
    assert channel.last_error
    deal = _open_deal()
    assert _post(client, _callback_body(channel, [deal.zoho_id])).status_code == 202


@pytest.mark.django_db
def test_a_callback_the_broker_cannot_take_is_left_to_the_scheduled_pull(
    settings: Settings, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kombu.exceptions import OperationalError

    from sync.tasks import zoho_notified_fetch_task

    settings.ZOHO_NOTIFY_URL = "https://pulse.example.com/zoho/notify/"
    channel = ZohoWatchChannel.load()
    channel.channel_id, channel.token = "1000000068002", "secret-token"
    channel.save()

    def broker_down(*args: object) -> None:
        raise OperationalError("Connection refused")

    monkeypatch.setattr(zoho_notified_fetch_task, "delay", broker_down)
    response = _post(client, _callback_body(channel, ["4876876000000624001"]))
    assert response.status_code == 503
    assert not SyncRun.objects.exists()


@pytest.mark.django_db
def test_the_sync_page_shows_the_channel_state(
    settings: Settings, manager_client: Client, clock: SimulatorClock
) -> None:
    settings.ZOHO_NOTIFY_URL = ""
    page = manager_client.get("/sync/").content.decode()
    assert "Instant updates from Zoho" in page
    assert "Off: changes in Zoho arrive with the next scheduled pull" in page

    settings.ZOHO_NOTIFY_URL = "https://pulse.example.com/zoho/notify/"
    assert "Not subscribed yet" in manager_client.get("/sync/").content.decode()

    channel = ZohoWatchChannel.load()
    channel.channel_id, channel.token = "1000000068002", "secret-token-not-shown"
    channel.expires_at = NOW + timedelta(hours=20, minutes=30)
    channel.last_callback_at = NOW - timedelta(minutes=4)
    channel.callbacks, channel.refused = 12, 2
    channel.save()
    page = manager_client.get("/sync/").content.decode()
    assert ">Active<" in page
    assert "1000000068002" in page
    assert "https://pulse.example.com/zoho/notify/" in page
    assert "in 20 h" in page
    assert "4 min ago" in page
    assert "12 accepted · 2 refused" in page
    assert "secret-token-not-shown" not in page

    channel.expires_at = NOW - timedelta(minutes=1)
    channel.last_error = "watch deals: Zoho answered 401 OAUTH_SCOPE_MISMATCH: invalid scope"
    channel.last_error_at = NOW
    channel.save()
    page = manager_client.get("/sync/").content.decode()
    assert ">Lapsed<" in page
    assert "OAUTH_SCOPE_MISMATCH" in page


@pytest.mark.django_db
def test_workers_subscribing_at_once_leave_zoho_one_channel(
    org: Zoho, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every worker subscribes when it starts: several starting together must not each open
    a channel of their own, whose callbacks carry a token only one of them stored."""
    settings.ZOHO_NOTIFY_URL = "http://127.0.0.1:9/zoho/notify/"
    load = ZohoWatchChannel.load

    def loaded_as_another_worker_subscribes() -> ZohoWatchChannel:
        channel = load()  # read before the other worker stores its channel
        monkeypatch.setattr(ZohoWatchChannel, "load", load)
        zoho_watch_ensure(force=True, client=org.client())  # the other worker's
        return channel

    monkeypatch.setattr(ZohoWatchChannel, "load", loaded_as_another_worker_subscribes)
    zoho_watch_ensure(force=True, client=org.client())

    stored = ZohoWatchChannel.load()
    assert list(org.simulator.watch.channels) == [stored.channel_id]
    assert org.simulator.watch.channels[stored.channel_id].token == stored.token
