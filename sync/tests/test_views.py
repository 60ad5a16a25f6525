"""The sync screen and the header's freshness: roles, starting runs, live progress by polling."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django import Settings

from currency.models import ExchangeRate
from opportunities.tests.factories import CrmUserFactory, OpportunityFactory, UserFactory
from sync import triggers
from sync.models import IssueSeverity, SyncIssue, SyncKind, SyncRun, SyncStatus, SyncTrigger
from sync.services import sync_run_start

pytestmark = pytest.mark.django_db

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
REDIS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": ["redis://x"]},
    }
}


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Record the tasks "Sync now" queues instead of sending them to a broker."""
    calls: list[tuple[str, dict[str, Any]]] = []
    for name in ("zoho_sync_full", "zoho_sync_incremental"):
        task = getattr(triggers, name)
        monkeypatch.setattr(
            task, "delay", lambda _name=name, **kwargs: calls.append((_name, kwargs))
        )
    return calls


def _run(**fields: Any) -> SyncRun:
    defaults: dict[str, Any] = {"kind": SyncKind.INCREMENTAL, "trigger": SyncTrigger.SCHEDULE}
    defaults.update(fields)
    return SyncRun.objects.create(**defaults)


def test_page_shows_connection_last_runs_and_issues(
    manager_client: Client, settings: Settings
) -> None:
    settings.ZOHO_CLIENT_ID = settings.ZOHO_CLIENT_SECRET = settings.ZOHO_REFRESH_TOKEN = "set"
    now = timezone.now()
    _run(
        status=SyncStatus.SUCCEEDED, finished_at=now - timedelta(minutes=4), fetched=1200, created=3
    )
    failed = _run(
        status=SyncStatus.FAILED,
        finished_at=now - timedelta(hours=2),
        error="Zoho said 401 INVALID_TOKEN",
    )
    SyncIssue.objects.create(
        run=failed,
        zoho_id="123456",
        severity=IssueSeverity.SKIPPED,
        reason="Closing date is not a date",
    )
    content = manager_client.get(reverse("sync")).content.decode()
    assert "Configured" in content
    assert "Zoho said 401 INVALID_TOKEN" in content
    assert "Closing date is not a date" in content
    assert "1 record skipped or stored with a warning" in content
    assert "4 min ago" in content
    assert "Sync now" in content


def test_not_configured_says_what_to_set(manager_client: Client, settings: Settings) -> None:
    settings.ZOHO_CLIENT_ID = ""
    content = manager_client.get(reverse("sync")).content.decode()
    assert "Not configured" in content
    assert "ZOHO_CLIENT_ID" in content
    assert "No sync has run yet" in content


@pytest.mark.parametrize("fixture", ["viewer_client", "rep_client"])
def test_viewers_and_reps_see_no_buttons_and_may_not_start(
    fixture: str, request: pytest.FixtureRequest, queued: list[Any]
) -> None:
    client: Client = request.getfixturevalue(fixture)
    assert "Sync now</button>" not in client.get(reverse("sync")).content.decode()
    assert client.post(reverse("sync_start"), {"kind": "full"}).status_code == 403
    assert queued == []


@pytest.mark.parametrize("fixture", ["manager_client", "admin_client_"])
def test_managers_and_admins_start_a_sync(
    fixture: str, request: pytest.FixtureRequest, queued: list[Any]
) -> None:
    client: Client = request.getfixturevalue(fixture)
    response = client.post(reverse("sync_start"), {"kind": "full"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("sync") + "?since=")
    assert [name for name, _ in queued] == ["zoho_sync_full"]
    assert "A full sync was queued" in client.get(response["Location"]).content.decode()


def test_htmx_start_shows_the_message_and_polls_without_a_shared_layer(
    manager_client: Client, queued: list[Any], settings: Settings
) -> None:
    settings.CHANNEL_LAYERS = IN_MEMORY
    response = manager_client.post(
        reverse("sync_start"), {"kind": "incremental"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "An incremental sync was queued" in content
    assert "Waiting for the worker to start the sync" in content
    assert 'hx-trigger="every 1500ms"' in content
    assert [name for name, _ in queued] == ["zoho_sync_incremental"]


def test_with_redis_the_page_listens_on_the_websocket_instead(
    manager_client: Client, settings: Settings
) -> None:
    settings.CHANNEL_LAYERS = REDIS
    _run()
    content = manager_client.get(reverse("sync")).content.decode()
    assert 'data-sync-socket="/ws/sync/"' in content
    assert "every 1500ms" not in content
    assert 'data-run-id="' in content


def test_already_running_is_a_clear_message(manager_client: Client, queued: list[Any]) -> None:
    sync_run_start(kind=SyncKind.INCREMENTAL, trigger=SyncTrigger.SCHEDULE)
    response = manager_client.post(
        reverse("sync_start"), {"kind": "full"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 409
    assert "A sync is already running" in response.content.decode()
    assert queued == []
    followed = manager_client.post(reverse("sync_start"), {"kind": "full"}, follow=True)
    assert "already running" in followed.content.decode()


def test_a_run_whose_worker_died_does_not_block_sync_now(
    manager_client: Client, queued: list[Any]
) -> None:
    """A worker killed mid-run leaves its run marked running, but its lock died with its
    database session: "Sync now" must not wait for the next scheduled pull to notice."""
    orphan = _run()
    response = manager_client.post(
        reverse("sync_start"), {"kind": "incremental"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert [name for name, _ in queued] == ["zoho_sync_incremental"]
    orphan.refresh_from_db()
    assert orphan.status == SyncStatus.FAILED
    assert orphan.error.startswith("Abandoned")


def test_polling_shows_progress_then_announces_the_end(
    manager_client: Client, settings: Settings
) -> None:
    settings.CHANNEL_LAYERS = IN_MEMORY
    since = timezone.now()
    run = _run(kind=SyncKind.FULL, expected_total=200, fetched=50)
    started = manager_client.get(reverse("sync") + "?" + urlencode({"since": since.isoformat()}))
    url = started.context["poll_url"]
    assert url.startswith(reverse("sync") + "?since=")
    running = manager_client.get(url, headers={"HX-Request": "true"})
    content = running.content.decode()
    assert f'hx-get="{url}"' in content  # the page keeps following the same click
    assert "25%" in content
    assert 'hx-trigger="every 1500ms"' in content
    assert "HX-Trigger" not in running.headers
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncStatus.SUCCEEDED, finished_at=timezone.now(), fetched=200
    )
    done = manager_client.get(url, headers={"HX-Request": "true"})
    assert done.headers["HX-Trigger"] == "pulse:sync-finished"
    assert "The sync finished" in done.content.decode()
    assert "every 1500ms" not in done.content.decode()


def test_a_bad_since_is_a_400_naming_it(manager_client: Client) -> None:
    for since in ("not-a-time", "2026-13-45T99:00"):
        response = manager_client.get(reverse("sync") + f"?since={since}")
        assert response.status_code == 400
        assert response.content.decode().startswith("since: ")


def test_header_freshness_states(manager_client: Client, settings: Settings) -> None:
    settings.FX_CURRENCIES = ["SGD", "USD"]
    content = manager_client.get(reverse("freshness")).content.decode()
    assert "Never synced" in content
    assert "state-expired" in content
    _run(status=SyncStatus.SUCCEEDED, finished_at=timezone.now() - timedelta(minutes=4))
    for code, units in (("USD", 1), ("SGD", "1.35")):
        ExchangeRate.objects.create(
            currency=code,
            units_per_usd=Decimal(units),
            as_of=timezone.now() - timedelta(days=9),
            source="api",
        )
    from django.core.cache import cache

    cache.clear()
    content = manager_client.get(reverse("freshness")).content.decode()
    assert "Synced <time" in content
    assert "4 min ago</time>" in content
    assert "FX rates <time" in content
    assert "9 days old" in content
    assert "state-stale" in content
    assert "(stale: older than 7 days)" in content


def test_the_header_counts_sgds_own_rate(manager_client: Client, settings: Settings) -> None:
    # Every amount is converted with SGD's rate against the dollar: when it is 40 days old,
    # every SGD figure is, however fresh the deal currencies' rates are.
    settings.FX_CURRENCIES = ["SGD", "USD", "EUR"]
    for code, units, days in (("USD", 1, 0), ("EUR", "0.92", 0), ("SGD", "1.35", 40)):
        ExchangeRate.objects.create(
            currency=code,
            units_per_usd=Decimal(units),
            as_of=timezone.now() - timedelta(days=days),
            source="api",
        )
    content = manager_client.get(reverse("freshness")).content.decode()
    assert "40 days old" in content
    assert "state-expired" in content
    ExchangeRate.objects.filter(currency="SGD").delete()
    from django.core.cache import cache

    cache.clear()
    content = manager_client.get(reverse("freshness")).content.decode()
    assert 'title="No rate for SGD"' in content


def test_freshness_tells_the_page_when_a_newer_sync_finished(manager_client: Client) -> None:
    run = _run(status=SyncStatus.SUCCEEDED, finished_at=timezone.now())
    same = manager_client.get(reverse("freshness") + f"?seen={run.pk}")
    assert "HX-Trigger" not in same.headers
    newer = manager_client.get(reverse("freshness") + "?seen=0")
    assert newer.headers["HX-Trigger"] == "pulse:data-changed"
    assert f"seen={run.pk}" in newer.content.decode()


def test_freshness_of_a_running_sync_and_an_old_one(manager_client: Client) -> None:
    _run(status=SyncStatus.SUCCEEDED, finished_at=timezone.now() - timedelta(hours=2))
    content = manager_client.get(reverse("freshness")).content.decode()
    assert "state-stale" in content
    _run(kind=SyncKind.FULL, expected_total=100, fetched=40)
    assert "Syncing now" in manager_client.get(reverse("freshness")).content.decode()
    assert "In progress: the live counts are under Progress above" in (
        manager_client.get(reverse("sync")).content.decode()
    )


def test_a_push_does_not_make_the_data_look_fresher(manager_client: Client) -> None:
    pulled = _run(status=SyncStatus.SUCCEEDED, finished_at=timezone.now() - timedelta(hours=2))
    _run(
        kind=SyncKind.PUSH,
        trigger=SyncTrigger.EDIT,
        status=SyncStatus.SUCCEEDED,
        finished_at=timezone.now(),
    )
    content = manager_client.get(reverse("freshness")).content.decode()
    assert "state-stale" in content  # two hours since anything came in from Zoho
    assert manager_client.get(reverse("sync")).context["last_success"] == pulled


def test_query_count_does_not_grow_with_runs_and_issues(manager_client: Client) -> None:
    def count() -> int:
        manager_client.get(reverse("sync"))
        with CaptureQueriesContext(connection) as captured:
            manager_client.get(reverse("sync"))
        return len(captured)

    def runs(n: int) -> None:
        for _ in range(n):
            run = _run(status=SyncStatus.FAILED, finished_at=timezone.now(), error="x")
            for index in range(12):
                SyncIssue.objects.create(
                    run=run, zoho_id=str(index), severity="skipped", reason="bad"
                )

    runs(5)
    few = count()
    runs(20)
    assert count() == few


def test_the_header_keeps_its_runs_until_a_run_is_saved(manager_client: Client) -> None:
    """Every page shows the header: its runs are read once, then kept until one is saved."""
    _run(status=SyncStatus.SUCCEEDED, finished_at=timezone.now() - timedelta(minutes=5))
    assert "5 min ago" in manager_client.get(reverse("freshness")).content.decode()
    with CaptureQueriesContext(connection) as captured:
        manager_client.get(reverse("freshness"))
    assert not any("sync_syncrun" in query["sql"] for query in captured.captured_queries)
    running = _run()  # saved: the header hears of it at once
    content = manager_client.get(reverse("freshness")).content.decode()
    assert "Syncing now" in content
    running.status, running.finished_at = SyncStatus.SUCCEEDED, timezone.now()
    running.save()
    content = manager_client.get(reverse("freshness")).content.decode()
    assert "Syncing now" not in content
    assert "5 min ago" not in content  # the newer run is the last successful one


def test_an_abandoned_run_leaves_the_header_at_once(manager_client: Client) -> None:
    from sync import run_lock
    from sync.services import sync_run_start

    orphan = _run()  # its process died: no lock is held for it
    assert "Syncing now" in manager_client.get(reverse("freshness")).content.decode()
    started = sync_run_start(kind=SyncKind.INCREMENTAL, trigger=SyncTrigger.COMMAND)
    orphan.refresh_from_db()
    assert orphan.status == SyncStatus.FAILED
    run_lock.release()
    started.status, started.finished_at = SyncStatus.FAILED, timezone.now()
    started.save()
    assert "Syncing now" not in manager_client.get(reverse("freshness")).content.decode()


def test_the_header_shows_new_rates_at_once(manager_client: Client, settings: Settings) -> None:
    """The header's FX age is kept with its runs: a change of rates forgets both."""
    from currency.services import rate_override_set
    from opportunities.roles import Role
    from opportunities.tests.factories import UserFactory

    settings.FX_CURRENCIES = ["SGD", "USD"]
    for code, units, days in (("USD", 1, 9), ("SGD", "1.35", 1)):
        ExchangeRate.objects.create(
            currency=code,
            units_per_usd=Decimal(units),
            as_of=timezone.now() - timedelta(days=days),
            source="api",
        )
    assert "9 days old" in manager_client.get(reverse("freshness")).content.decode()
    with CaptureQueriesContext(connection) as captured:
        manager_client.get(reverse("freshness"))
    assert not any("currency_exchangerate" in query["sql"] for query in captured)
    rate_override_set(
        currency="USD",
        units_per_usd=Decimal("1.0"),
        reason="Treasury's rate for the quarter close",
        user=UserFactory.create(role=Role.ADMIN),
    )
    content = manager_client.get(reverse("freshness")).content.decode()
    assert "9 days old" not in content
    assert "state-fresh" in content


@pytest.mark.parametrize(
    ("client_fixture", "shown"),
    [
        ("admin_client_", {"111-rep-own", "222-other-rep", "333-never-stored"}),
        ("manager_client", {"111-rep-own", "222-other-rep", "333-never-stored"}),
        ("rep_client", {"111-rep-own"}),
        ("viewer_client", set()),
        ("roleless_client", set()),
    ],
)
def test_issues_are_shown_to_admins_managers_and_a_rep_for_its_own_deals(
    client_fixture: str, shown: set[str], request: pytest.FixtureRequest
) -> None:
    client: Client = request.getfixturevalue(client_fixture)
    own = OpportunityFactory.create(owner=CrmUserFactory.create(email="REP@example.com"))
    other = OpportunityFactory.create(owner=CrmUserFactory.create(email="other@example.com"))
    run = _run(status=SyncStatus.SUCCEEDED, finished_at=timezone.now())
    reasons = {
        "111-rep-own": own,
        "222-other-rep": other,
        "333-never-stored": None,  # skipped before it was stored: nobody's deal here
    }
    for reason, deal in reasons.items():
        zoho_id = deal.zoho_id if deal is not None else "999"
        SyncIssue.objects.create(run=run, zoho_id=zoho_id, severity="skipped", reason=reason)

    content = client.get(reverse("sync")).content.decode()
    assert {reason for reason in reasons if reason in content} == shown
    if shown:
        count = len(shown)
        assert f"{count} record{'s' if count > 1 else ''} skipped or stored" in content
    else:
        assert "skipped or stored" not in content
        assert other.zoho_id not in content


@pytest.fixture
def roleless_client(client: Client, db: None) -> Client:
    client.force_login(UserFactory.create())
    return client
