"""The screens in a real browser, as a sales director uses them every morning.

Log in, read the dashboard, follow a KPI to the board, filter it, open a deal, edit a milestone
and watch phase and health follow, read what changed. Screenshots land in var/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django import Settings

from conftest import screenshot
from opportunities.models import HealthStatus, Opportunity, Phase
from opportunities.roles import Role
from opportunities.tests.factories import UserFactory
from opportunities.tests.screens import deal, mixed_pipeline

pytestmark = [
    pytest.mark.browser,
    # Transactional: the live server reads what the test writes. The flush afterwards empties
    # every table; the root conftest puts the data migrations' rows back.
    pytest.mark.django_db(transaction=True),
]

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# The answers a screen gives on purpose (a form Zoho would refuse, a filter that cannot be
# read): Chromium logs each as a failed resource, which is no fault of the page.
EXPECTED_STATUS = re.compile(r"Failed to load resource: .* status of (400|409|422) ")


@pytest.fixture
def page(chromium: Any) -> Iterator[Page]:
    """As the root conftest's tab, but a deliberate 4xx answer is not a console error."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not EXPECTED_STATUS.match(m.text)
            else None
        ),
    )
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, f"browser console errors: {errors}"


@pytest.fixture(autouse=True)
def _polling(settings: Settings) -> None:
    # The live server speaks HTTP only: pages poll, as in the embedded mode.
    settings.CHANNEL_LAYERS = IN_MEMORY


def _log_in(page: Page, base: str, username: str, next_path: str = "/") -> None:
    page.goto(f"{base}{next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")


def test_a_morning_from_dashboard_to_a_deal_edit(page: Page, live_server: object) -> None:
    UserFactory.create(username="mei", role=Role.MANAGER, first_name="Mei", last_name="Lim")
    mixed_pipeline()
    for index in range(55):
        deal(name=f"Harbour deal {index:02}", territory="Singapore", sgd=f"{1000 + index}.00")
    from django.utils import timezone

    target = deal(
        name="Jurong fibre rollout",
        stage="Qualification",
        territory="Singapore",
        sgd="480000.00",
        probability=20,
        health=HealthStatus.SUCCESS,
        phase=Phase.OPPORTUNITY,
    )
    base = str(live_server)

    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/accounts/login/?next=/")
    screenshot(page, "login")
    _log_in(page, base, "mei")
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator(".site-header")).to_contain_text("Mei Lim")
    expect(page.locator(".site-header")).to_contain_text("Manager")
    expect(page.locator("#freshness")).to_contain_text("Never synced")
    expect(page.locator("canvas[data-chart]")).to_have_count(4)
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('canvas'))")
    screenshot(page, "dashboard")

    # Follow a figure: the board opens on exactly its deals (open ones: the won deal in Danger
    # is "delivery at risk").
    page.click("a.kpi:has-text('Deals in Danger')")
    expect(page).to_have_url(re.compile(r"/board/\?outcome=open&health=danger$"))
    expect(page.locator("#board-results tbody tr:not(.group-row)")).to_have_count(1)
    screenshot(page, "board-danger")

    # Filter through htmx: the URL follows, the page is not reloaded.
    page.goto(f"{base}/board/")
    expect(page.locator(".board-summary .count")).to_have_text("62 deals")
    screenshot(page, "board")
    page.fill("#id_q", "jurong")
    expect(page.locator(".board-summary .count")).to_have_text("1 deal")
    expect(page).to_have_url(re.compile(r"q=jurong"))
    page.go_back()
    expect(page.locator(".board-summary .count")).to_have_text("62 deals")
    page.click("summary:has-text('Territory')")
    page.check("input[name=territory][value=Malaysia]")
    expect(page.locator(".board-summary .count")).to_have_text("2 deals")
    expect(page).to_have_url(re.compile(r"territory=Malaysia"))
    screenshot(page, "board-filtered")

    # Open the deal and move a milestone: phase and health follow, the change waits for Zoho.
    page.goto(f"{base}/board/?q=jurong")
    page.click("text=Jurong fibre rollout")
    expect(page.locator("h1")).to_have_text("Jurong fibre rollout")
    expect(page.locator(".deal-head .badges")).to_contain_text("Success")
    proposal = (timezone.localdate() - timedelta(days=40)).isoformat()
    page.fill("#edit-proposal_submitted_on", proposal)
    page.click("button:has-text('Save changes')")
    expect(page.locator(".notice-success")).to_contain_text("Saved: Proposal submitted")
    expect(page.locator(".deal-head .badges")).to_contain_text("Danger")
    expect(page.locator(".deal-head .badges")).to_contain_text("Phase 3 · Proposal")
    expect(page.locator(".deal-head .badges")).to_contain_text("waiting to be sent to Zoho")
    expect(page).to_have_url(re.compile(rf"/deals/{target.pk}/(\?back=.*)?$"))
    screenshot(page, "deal-edited")
    target.refresh_from_db()
    assert target.pending_fields == ["proposal_submitted_on"]

    # A value Zoho would refuse: said next to the field, nothing lost.
    page.fill("#edit-probability", "150")
    page.click("button:has-text('Save changes')")
    expect(page.locator("#edit-probability-error")).to_have_text(
        "Enter a whole number from 0 to 100."
    )
    expect(page.locator("#edit-probability")).to_have_value("150")
    screenshot(page, "deal-error")

    page.click("nav.main-nav >> text=What changed")
    expect(page.locator("h1")).to_have_text("What changed")
    expect(page.locator("#changes")).to_contain_text("Phase forward")
    screenshot(page, "changes")

    page.click("text=Log out")
    expect(page).to_have_url(f"{base}/accounts/login/")


def test_a_viewer_reads_but_cannot_edit_or_sync(page: Page, live_server: object) -> None:
    UserFactory.create(username="fin", role=Role.VIEWER)
    some = deal(name="Read-only deal")
    base = str(live_server)
    _log_in(page, base, "fin", f"/deals/{some.pk}/")
    expect(page.locator("h1")).to_have_text("Read-only deal")
    expect(page.locator("text=Edit tracking fields")).to_have_count(0)
    page.goto(f"{base}/sync/")
    expect(page.locator("button:has-text('Sync now')")).to_have_count(0)
    assert Opportunity.objects.count() == 1


def test_back_after_an_htmx_filter_shows_the_whole_board(page: Page, live_server: object) -> None:
    """The filtered board's URL answers a fragment to htmx and the page to a browser: without
    `Vary: HX-Request` the browser's cache hands Back the bare fragment."""
    UserFactory.create(username="mei", role=Role.MANAGER)
    mixed_pipeline()
    target = deal(name="Jurong fibre rollout", territory="Singapore", sgd="480000.00")
    base = str(live_server)
    _log_in(page, base, "mei", "/board/")
    expect(page.locator("h1")).to_have_text("Health board")

    page.fill("#id_q", "jurong")  # htmx swaps the results and pushes the URL
    expect(page).to_have_url(re.compile(r"q=jurong"))
    expect(page.locator(".board-summary .count")).to_have_text("1 deal")
    page.click("text=Jurong fibre rollout")  # a whole page
    expect(page).to_have_url(re.compile(rf"/deals/{target.pk}/(\?back=.*)?$"))

    page.go_back()
    expect(page).to_have_url(re.compile(r"/board/\?q=jurong"))
    expect(page.locator(".site-header")).to_be_visible()  # the page, not a bare fragment
    expect(page.locator("h1")).to_have_text("Health board")
    expect(page.locator(".board-summary .count")).to_have_text("1 deal")
    expect(page.locator("#id_q")).to_have_value("jurong")
