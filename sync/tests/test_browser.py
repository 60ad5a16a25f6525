"""Start a sync from the sync page and watch its progress reach the end, in a real browser.

The run pulls from the project's Zoho simulator over HTTP; the queued task runs in a thread
of the test, as a worker would. The live server speaks HTTP only, so the page follows the run
by polling, as it does in the embedded mode.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from playwright.sync_api import Page, expect
from pytest_django import Settings

from conftest import screenshot
from opportunities.models import Opportunity
from opportunities.roles import Role
from opportunities.tests.factories import UserFactory
from sync import tasks, triggers
from sync.models import SyncRun, SyncStatus
from sync.tests.zoho_helpers import serve_zoho

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEALS = 450


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[threading.Thread]]:
    """Queued sync tasks run in threads here, as the Celery worker would run them."""
    threads: list[threading.Thread] = []

    def run_in_thread(kind: str) -> Any:
        def delay(**kwargs: Any) -> None:
            def work() -> None:
                try:
                    tasks._run(kind, kwargs["trigger"], kwargs.get("user_id"))
                finally:
                    connection.close()

            thread = threading.Thread(target=work, daemon=True)
            threads.append(thread)
            thread.start()

        return delay

    monkeypatch.setattr(triggers.zoho_sync_full, "delay", run_in_thread("full"))
    monkeypatch.setattr(triggers.zoho_sync_incremental, "delay", run_in_thread("incremental"))
    yield threads
    for thread in threads:
        thread.join(timeout=60)


def test_start_a_full_sync_and_watch_it_finish(
    page: Page, live_server: object, settings: Settings, worker: list[threading.Thread]
) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    UserFactory.create(username="mei", role=Role.MANAGER)
    base = str(live_server)
    with serve_zoho(deals=DEALS) as zoho:
        for name, value in zoho.simulator.environment(zoho.server.url).items():
            setattr(settings, name, value)
        page.goto(f"{base}/sync/")
        page.fill("#id_username", "mei")
        page.fill("#id_password", "correct horse battery staple")
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("Sync with Zoho CRM")
        expect(page.locator("#sync-live")).to_contain_text("Configured")
        expect(page.locator("#sync-live")).to_contain_text("No sync has run yet")
        screenshot(page, "sync-empty")

        page.click("button:has-text('Full sync')")
        expect(page.locator("#sync-live .notice")).to_contain_text("A full sync was queued")
        # The page polls until the run is over, then says how it went: no reload.
        expect(page.locator("#sync-live")).to_contain_text("The sync finished", timeout=60_000)
        expect(page.locator("#sync-live tbody tr").first).to_contain_text("Succeeded")
        expect(page.locator("#sync-live tbody tr").first).to_contain_text(f"{DEALS:,}")
        expect(page.locator("#freshness")).to_contain_text("Synced")
        screenshot(page, "sync")
    for thread in worker:
        thread.join(timeout=60)
    run = SyncRun.objects.get()
    assert (run.status, run.fetched) == (SyncStatus.SUCCEEDED, DEALS)
    assert Opportunity.objects.count() == DEALS


@pytest.fixture
def asgi_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The product's ASGI application (HTTP and WebSockets), served by uvicorn in a thread.

    Built afresh, so its middleware reads the test settings (static files from the finders).
    Its threads close their database connections after each request, so none outlives the
    test and holds the test database open.
    """
    from django.db import connections

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    import socket

    import uvicorn

    from pipeline_pulse.asgi import build_application

    application = build_application()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            application, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        thread.join(timeout=0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _publish(run: SyncRun) -> None:
    """As the worker does; from a thread of its own, since Playwright's loop runs in this one."""
    from sync.events import sync_progress_publish

    thread = threading.Thread(target=sync_progress_publish, args=(run,))
    thread.start()
    thread.join(timeout=10)


def test_progress_arrives_over_the_websocket(
    page: Page, asgi_server: str, settings: Settings
) -> None:
    from django.utils import timezone

    from sync.context_processors import live_by_websocket
    from sync.models import SyncKind, SyncTrigger

    if not live_by_websocket():
        pytest.skip("needs a channel layer shared between threads: set REDIS_URL")
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.ZOHO_CLIENT_ID = settings.ZOHO_CLIENT_SECRET = settings.ZOHO_REFRESH_TOKEN = "set"
    UserFactory.create(username="mei", role=Role.MANAGER, first_name="Mei", last_name="Lim")
    run = SyncRun.objects.create(kind=SyncKind.FULL, trigger=SyncTrigger.MANUAL, expected_total=400)
    page.goto(f"{asgi_server}/accounts/login/?next=/sync/")
    page.fill("#id_username", "mei")
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    expect(page.locator("#sync-progress")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-sync-socket", "/ws/sync/")
    # Publish until the page's socket has joined the group and shows the numbers.
    run.fetched, run.created, run.pages = 200, 180, 1
    for _ in range(50):
        _publish(run)
        if page.locator('[data-count="fetched"]').inner_text() == "200":
            break
        page.wait_for_timeout(200)
    expect(page.locator('[data-count="fetched"]')).to_have_text("200")
    expect(page.locator("[data-percent]")).to_have_text("50%")
    expect(page.locator("#freshness")).to_contain_text("Syncing now")
    screenshot(page, "sync-websocket")
    # As the worker ends a run: saved, which the header's kept runs hear of (sync.apps).
    run.status, run.finished_at, run.fetched = SyncStatus.SUCCEEDED, timezone.now(), 400
    run.save()
    _publish(run)
    # The run is over: the page re-reads its runs, the header its freshness.
    expect(page.locator("#sync-live")).to_contain_text("No sync is running")
    expect(page.locator("#freshness")).to_contain_text("Synced")
    connection.close()
