"""A rep's edit travels to Zoho, Zoho changes the same field, and an Admin settles it: the whole
write-back loop in a real browser, against the project's Zoho simulator over HTTP.

The push and the pull are run here, where the worker would run them, so the test decides
when each happens; everything else (the deal page, the admin's conflict page) is what users
see. Screenshots land in var/screenshots/.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from pytest_django import Settings

from conftest import screenshot
from opportunities.models import Conflict, Opportunity
from opportunities.roles import Role
from opportunities.tests.factories import UserFactory
from simulator.clock import SimulatorClock
from sync import triggers
from sync.models import SyncKind, SyncTrigger
from sync.services import zoho_push, zoho_sync
from sync.tests.zoho_helpers import Zoho, serve_zoho

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"
T = TypeVar("T")


@pytest.fixture
def org(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Zoho]:
    clock = SimulatorClock()
    clock.advance(timedelta(hours=-1))  # the org's last edit is an hour old
    with serve_zoho(deals=20, clock=clock) as zoho:
        for name, value in zoho.simulator.environment(zoho.server.url).items():
            setattr(settings, name, value)
        # The live server speaks HTTP only; conflicts wait for an Admin.
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
        settings.ZOHO_CONFLICT_STRATEGY = "manual"
        # The debounced push is run by the test below, not queued for a worker.
        monkeypatch.setattr(triggers, "zoho_push_soon", lambda: False)
        run = _as_the_worker(
            lambda: zoho_sync(kind=SyncKind.FULL, trigger=SyncTrigger.COMMAND, source=zoho.client())
        )
        assert run.status == "succeeded", run.error
        yield zoho


def _as_the_worker(work: Callable[[], T]) -> T:
    """Run a push or a pull in a thread of its own, as the worker would: Playwright's event
    loop owns this thread, and a run publishes its progress through async_to_sync."""
    result: list[T] = []

    def target() -> None:
        try:
            result.append(work())
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=60)
    assert result, "the run did not finish"
    return result[0]


def _log_in(page: Page, base: str, username: str, next_path: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def _new_tab(browser: Browser) -> Page:
    return browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()


def test_an_edit_reaches_zoho_and_a_conflict_is_settled_by_an_admin(
    org: Zoho, page: Page, chromium: Any, live_server: object
) -> None:
    owner_email = org.simulator.deals()[0]["Owner"]["email"]
    UserFactory.create(username="ravi", role=Role.REP, email=owner_email, first_name="Ravi")
    UserFactory.create(username="ops", role=Role.ADMIN, is_staff=True, first_name="Ops")
    deal = Opportunity.objects.live().filter(owner__email__iexact=owner_email).first()
    assert deal is not None
    base = str(live_server)
    today = timezone.localdate()
    planned, zoho_says = today + timedelta(days=75), today + timedelta(days=120)

    # The rep moves the closing date: saved here, waiting for Zoho.
    _log_in(page, base, "ravi", f"/deals/{deal.pk}/")
    page.fill("#edit-closing_date", planned.isoformat())
    page.click("button:has-text('Save changes')")
    expect(page.locator(".notice-success")).to_contain_text("Closing date")
    expect(page.locator("#zoho-sync-heading")).to_be_visible()
    expect(page.get_by_text("Sent to Zoho in the next batch.", exact=True)).to_be_visible()

    # The push: Zoho has the rep's date, nothing waits any more.
    push = _as_the_worker(lambda: zoho_push(trigger=SyncTrigger.EDIT, target=org.client()))
    assert push is not None
    assert push.updated == 1
    assert org.simulator.deal(deal.zoho_id)["Closing_Date"] == planned.isoformat()
    page.reload()
    expect(page.locator("#zoho-sync-heading")).to_have_count(0)
    expect(page.locator("#edits-heading")).to_be_visible()

    # The rep edits again while someone moves the same date in Zoho: a conflict on the pull.
    page.fill("#edit-closing_date", (planned + timedelta(days=7)).isoformat())
    page.click("button:has-text('Save changes')")
    expect(page.locator(".notice-success")).to_be_visible()
    org.simulator.clock.advance(timedelta(minutes=30))
    org.simulator.modify_deal(deal.zoho_id, {"Closing_Date": zoho_says.isoformat()})
    pull = _as_the_worker(
        lambda: zoho_sync(
            kind=SyncKind.INCREMENTAL, trigger=SyncTrigger.COMMAND, source=org.client()
        )
    )
    assert pull.status == "succeeded", pull.error
    conflict = Conflict.objects.get(status="open")
    page.reload()
    expect(page.locator(".deal-head")).to_contain_text("1 conflict with Zoho")
    expect(page.locator(".conflict")).to_contain_text("An Admin decides")
    screenshot(page, "deal-conflict")

    # The Admin keeps the rep's date; it goes to Zoho with the next push.
    admin = _new_tab(chromium)
    _log_in(admin, base, "ops", f"/deals/{deal.pk}/")
    expect(admin.locator(".conflict form.decide")).to_contain_text("Which value stays?")
    screenshot(admin, "deal-conflict-admin")
    admin.goto(f"{base}/admin/opportunities/conflict/{conflict.pk}/change/")
    expect(admin.locator("body")).to_contain_text("Last seen from Zoho (base)")
    screenshot(admin, "admin-conflict")
    admin.check("input[name=resolution][value=kept_local]")
    admin.click("input[type=submit][value=Resolve]")
    expect(admin).to_have_url(f"{base}/admin/opportunities/conflict/")
    admin.context.close()

    _as_the_worker(lambda: zoho_push(trigger=SyncTrigger.EDIT, target=org.client()))
    kept = (planned + timedelta(days=7)).isoformat()
    assert org.simulator.deal(deal.zoho_id)["Closing_Date"] == kept
    page.reload()
    expect(page.locator(".deal-head")).not_to_contain_text("conflict with Zoho")
    expect(page.locator("text=Settled conflicts")).to_be_visible()
    expect(page.locator("#edits-heading")).to_be_visible()
    screenshot(page, "deal-conflict-settled")
