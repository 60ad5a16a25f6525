"""The forecast and waterfall in a real browser, over a simulated org synced for weeks.

A manager opens the quarter's forecast, follows a cell to the board, asks what a weaker dollar
would do, then reads the waterfall and opens one of its steps; at 1366 and 390 px wide, with
no page-level horizontal scroll. Screenshots land in var/screenshots/.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import Page, expect
from pytest_django import Settings

from conftest import screenshot
from opportunities.roles import Role
from opportunities.tests.factories import UserFactory
from opportunities.tests.history_org import synced_org_with_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SGT = ZoneInfo("Asia/Singapore")
FIRST_SYNC = datetime(2026, 10, 1, 10, 0, tzinfo=SGT)
DAYS = 30
IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture(autouse=True)
def _polling(settings: Settings) -> None:
    settings.CHANNEL_LAYERS = IN_MEMORY


def _no_page_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    wide = page.evaluate(
        """() => {
            const edge = document.documentElement.clientWidth + 1;
            return [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > edge)
                .slice(0, 5).map(e => `${e.tagName}.${e.className}`);
        }"""
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px: {wide}"


def test_forecast_and_waterfall(request: pytest.FixtureRequest, live_server: object) -> None:
    UserFactory.create(username="mei", role=Role.MANAGER, first_name="Mei", last_name="Lim")
    with time_machine.travel(FIRST_SYNC, tick=True) as clock:
        synced_org_with_history(
            clock, first_sync=FIRST_SYNC, days=DAYS, deals=400, note=lambda: None
        )
        clock.move_to(FIRST_SYNC + timedelta(days=DAYS - 1, hours=4))
        # Playwright's event loop only once the org is synced: the sync runs no async code then.
        chromium: Any = request.getfixturevalue("chromium")
        base = str(live_server)
        context = chromium.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        page.goto(f"{base}/forecast/")
        page.fill("#id_username", "mei")
        page.fill("#id_password", "correct horse battery staple")
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("Forecast")
        expect(page.locator("#forecast-heading")).to_contain_text("Q4 2026")
        expect(page.locator(".forecast-kpis .kpi")).to_have_count(5)
        expect(page.locator(".main-nav a[aria-current=page]")).to_have_text("Forecast")
        _no_page_scroll(page)
        screenshot(page, "forecast-1366")

        # A cell opens the board on its deals.
        commit = page.locator(".kpi-commit")
        deals_text = commit.locator(".kpi-note").inner_text()
        count = int(re.match(r"([\d,]+)", deals_text).group(1).replace(",", ""))  # type: ignore[union-attr]
        commit.click()
        expect(page).to_have_url(re.compile(r"/board/\?.*forecast_category=commit"))
        expect(page.locator(".board-summary")).to_contain_text(f"{count:,}")
        page.go_back()
        expect(page.locator("h1")).to_have_text("Forecast")

        # The FX what-if: the URL keeps it, nothing is stored.
        page.select_option("#id_fx_currency", "USD")
        page.fill("#id_fx_percent", "-5")
        page.click("#forecast-form button[type=submit]")
        expect(page.locator("#whatif-heading")).to_have_text("What if USD moved -5%")
        expect(page).to_have_url(re.compile(r"fx_currency=USD&fx_percent=-5"))
        page.reload()
        expect(page.locator("#whatif-heading")).to_have_text("What if USD moved -5%")
        screenshot(page, "forecast-whatif-1366")

        page.goto(f"{base}/waterfall/")
        expect(page.locator("h1")).to_have_text("Waterfall")
        expect(page.locator(".bridge tbody tr")).to_have_count(11)
        _no_page_scroll(page)
        screenshot(page, "waterfall-1366")
        page.locator(".bridge a", has_text="Moved out of the quarter").click()
        expect(page.locator("#step-heading")).to_have_text("Moved out of the quarter")
        expect(page).to_have_url(re.compile(r"step=pushed_out"))
        page.go_back()
        expect(page.locator("#step-heading")).to_have_count(0)

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/forecast/")
        _no_page_scroll(page)
        screenshot(page, "forecast-390")
        page.goto(f"{base}/waterfall/?step=won")
        _no_page_scroll(page)
        screenshot(page, "waterfall-390")
        context.close()
        assert not errors, errors
