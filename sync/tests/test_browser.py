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
