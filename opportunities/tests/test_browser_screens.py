"""Screens people use every day, in Chromium (#26): Back and reload restore the address's
state as a whole page, the list and the address never race, every screen fits a 390 px
phone, error pages keep the site around them, and the filter menus work by keyboard."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect
from pytest_django import Settings

from conftest import screenshot
from opportunities.models import ChangeEvent, HealthStatus
from opportunities.roles import Role
from opportunities.tests.factories import CrmUserFactory, UserFactory
from opportunities.tests.screens import deal, mixed_pipeline

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Answers a screen gives on purpose (a refused form, an error page): Chromium logs each as a
# failed resource, which is no fault of the page.
EXPECTED_STATUS = re.compile(
    r"Failed to load resource: .* status of (400|403|404|409|422) "
    # hx-sync "replace": a request a newer one supersedes is aborted, and htmx logs that.
    r"|htmx:(afterRequest|sendAbort), \[object HTML"
)
PAGE_TWO = "Deals 51\u201360 of 60"  # the pager's en dash
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery staple"


def _tab(chromium: Any, viewport: dict[str, int]) -> Iterator[Page]:
    context = chromium.new_context(viewport=viewport)
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


@pytest.fixture
def page(chromium: Any) -> Iterator[Page]:
    yield from _tab(chromium, {"width": 1366, "height": 768})


@pytest.fixture
def phone(chromium: Any) -> Iterator[Page]:
    yield from _tab(chromium, PHONE)


@pytest.fixture(autouse=True)
def _polling(settings: Settings) -> None:
    settings.CHANNEL_LAYERS = IN_MEMORY  # the live server speaks HTTP only: pages poll


def _log_in(tab: Page, base: str, username: str, next_path: str = "/") -> None:
    tab.goto(f"{base}/accounts/login/?next={next_path}")
    tab.fill("#id_username", username)
    tab.fill("#id_password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(re.compile(re.escape(next_path.split("?")[0]) + r"(\?.*)?$"))


def _whole_page(tab: Page) -> None:
    """The page with its header and styles, never a bare fragment."""
    expect(tab.locator(".site-header")).to_be_visible()
    assert tab.evaluate("() => !!document.querySelector('link[rel=stylesheet]')")


def _query(tab: Page) -> dict[str, list[str]]:
    """The address's query: every parameter has a value (no empty filters in a shared link)."""
    query = urlsplit(tab.url).query
    pairs = parse_qs(query, keep_blank_values=True)
    assert all(value for values in pairs.values() for value in values), tab.url
    return pairs


# The board's default outcomes are ticked boxes of the form, so they travel with any change.
SHOWN = ["open", "won"]


def _harbour_board(count: int = 60) -> None:
    owner = CrmUserFactory.create(name="Siti Rahman")
    for index in range(count):
        deal(
            name=f"Harbour deal {index:02}",
            territory="Singapore",
            sgd=f"{1000 + index}.00",
            owner=owner,
        )
    for index in range(count):
        deal(name=f"Kallang deal {index:02}", territory="Malaysia", sgd=f"{2000 + index}.00")


def test_back_after_search_filter_and_page_restores_the_whole_board(
    page: Page, live_server: Any
) -> None:
    UserFactory.create(username="mei", role=Role.MANAGER)
    _harbour_board()
    base = str(live_server)
    _log_in(page, base, "mei", "/board/")
    expect(page.locator(".board-summary .count")).to_have_text("120 deals")

    # Search, open a deal, Back.
    page.fill("#id_q", "harbour")
    expect(page).to_have_url(re.compile(r"q=harbour"))
    expect(page.locator(".board-summary .count")).to_have_text("60 deals")
    assert _query(page) == {"q": ["harbour"], "outcome": SHOWN}  # only the filters set
    # Next page: the address says page 2.
    page.click("a[rel=next]")
    expect(page).to_have_url(re.compile(r"page=2"))
    assert _query(page) == {"q": ["harbour"], "outcome": SHOWN, "page": ["2"]}
    expect(page.locator(".pager .muted").first).to_have_text(PAGE_TWO)
    page.locator("#board-results a.deal-name").first.click()
    expect(page).to_have_url(re.compile(r"/deals/\d+/\?back="))
    # The breadcrumb knows the list it came from.
    expect(page.locator(".breadcrumbs a")).to_have_attribute(
        "href", "/board/?q=harbour&outcome=open&outcome=won&page=2"
    )
    page.go_back()
    expect(page).to_have_url(re.compile(r"/board/\?q=harbour&outcome=open&outcome=won&page=2$"))
    _whole_page(page)
    expect(page.locator("#id_q")).to_have_value("harbour")
    expect(page.locator(".pager .muted").first).to_have_text(PAGE_TWO)

    # Back again, through htmx's own history entries: page 1 of the search, whole.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/board/\?q=harbour&outcome=open&outcome=won$"))
    _whole_page(page)
    expect(page.locator(".board-summary .count")).to_have_text("60 deals")

    # A filter menu, then a deal, then Back: the box is still ticked, the list still filtered.
    page.goto(f"{base}/board/")
    page.click("summary:has-text('Territory')")
    page.check("input[name=territory][value=Malaysia]")
    expect(page).to_have_url(re.compile(r"territory=Malaysia"))
    expect(page.locator(".board-summary .count")).to_have_text("60 deals")
    page.locator("#board-results a.deal-name").first.click()
    page.go_back()
    _whole_page(page)
    expect(page.locator("input[name=territory][value=Malaysia]")).to_be_checked()
    expect(page.locator(".board-summary .count")).to_have_text("60 deals")

    # Reload: the same state from the address alone.
    page.reload()
    _whole_page(page)
    expect(page.locator("input[name=territory][value=Malaysia]")).to_be_checked()
    expect(page.locator(".board-summary .count")).to_have_text("60 deals")


def test_back_after_a_period_change_restores_what_changed(page: Page, live_server: Any) -> None:
    UserFactory.create(username="mei", role=Role.MANAGER)
    moved = deal(name="Jurong fibre rollout")
    ChangeEvent.objects.create(opportunity=moved, kind="new")
    base = str(live_server)
    _log_in(page, base, "mei", "/changes/")
    page.select_option("#id_period", "last_30_days")
    expect(page).to_have_url(re.compile(r"/changes/\?period=last_30_days$"))  # no empty dates
    page.click("nav.main-nav >> text=Health board")
    expect(page.locator("h1")).to_have_text("Health board")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/changes/\?period=last_30_days$"))
    _whole_page(page)
    expect(page.locator("h1")).to_have_text("What changed")
    expect(page.locator("#id_period")).to_have_value("last_30_days")
    page.reload()
    expect(page.locator("#id_period")).to_have_value("last_30_days")


def test_search_then_next_the_address_list_and_form_agree(page: Page, live_server: Any) -> None:
    """Typing then clicking Next at once fires two requests (the search box's change, and
    Next): one request at a time per board, the last wins, and it carries the search."""
    UserFactory.create(username="mei", role=Role.MANAGER)
    _harbour_board()
    base = str(live_server)
    _log_in(page, base, "mei", "/board/")
    expect(page.locator(".board-summary .count")).to_have_text("120 deals")

    page.locator("#id_q").press_sequentially("harbour")
    page.click("a[rel=next]")  # before the search's own request has come back
    expect(page).to_have_url(re.compile(r"q=harbour.*page=2$"))
    expect(page.locator(".pager .muted").first).to_have_text(PAGE_TWO)
    expect(page.locator("#id_q")).to_have_value("harbour")
    expect(page.locator("#board-results")).to_have_attribute("aria-busy", "false")
    names = page.locator("#board-results a.deal-name").all_text_contents()
    assert names
    assert all(name.startswith("Harbour") for name in names)

    # Search, then a column header at once: the address, the list and the Sort box agree.
    page.locator("#id_q").fill("")
    page.locator("#id_q").press_sequentially("kallang")
    page.click("th a:has-text('Closing')")
    expect(page).to_have_url(re.compile(r"q=kallang.*sort=closing_date"))
    assert "page" not in _query(page)
    expect(page.locator("#sort")).to_have_value("closing_date")
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Closing")
    names = page.locator("#board-results a.deal-name").all_text_contents()
    assert names
    assert all(name.startswith("Kallang") for name in names)


def test_filter_menus_by_keyboard_and_mouse(page: Page, live_server: Any) -> None:
    UserFactory.create(username="mei", role=Role.MANAGER)
    mixed_pipeline()
    base = str(live_server)
    _log_in(page, base, "mei", "/board/")
    health = page.locator("details.dropdown:has(summary:has-text('Health'))")
    summary = health.locator("summary")

    summary.focus()
    page.keyboard.press("Enter")  # open
    expect(health).to_have_attribute("open", "")
    page.keyboard.press("Tab")  # into the menu
    page.keyboard.press("Escape")
    expect(health).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()  # focus back on the menu's button

    # A click outside closes it; opening another closes the first.
    summary.click()
    expect(health).to_have_attribute("open", "")
    page.click("h1")
    expect(health).not_to_have_attribute("open", "")
    summary.click()
    page.click("summary:has-text('Outcome')")
    expect(health).not_to_have_attribute("open", "")

    # A choice closes the menu, and Sort and Apply were never under it.
    page.keyboard.press("Escape")
    summary.click()
    menu = health.locator(".menu").bounding_box()
    sort = page.locator("#sort").bounding_box()
    apply = page.locator("button:has-text('Apply')").bounding_box()
    assert menu is not None
    assert sort is not None
    assert apply is not None
    for box in (sort, apply):
        overlaps = not (
            box["x"] + box["width"] <= menu["x"]
            or menu["x"] + menu["width"] <= box["x"]
            or box["y"] + box["height"] <= menu["y"]
            or menu["y"] + menu["height"] <= box["y"]
        )
        assert not overlaps
    health.locator("input[value=danger]").check()
    expect(health).not_to_have_attribute("open", "")
    expect(page).to_have_url(re.compile(r"health=danger"))


def _fits(tab: Page, name: str) -> None:
    width = tab.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} is {width} px wide at 390"


def _header_reachable(tab: Page) -> None:
    for selector in (
        ".main-nav a:has-text('Sync')",
        "#freshness .fresh-pill >> nth=0",
        ".who",
        "button:has-text('Log out')",
    ):
        box = tab.locator(selector).bounding_box()
        assert box is not None, selector
        assert box["x"] >= 0, selector
        assert box["x"] + box["width"] <= PHONE["width"], selector


def test_every_screen_fits_a_390_px_phone(phone: Page, live_server: Any) -> None:
    UserFactory.create(
        username="ana", role=Role.ADMIN, first_name="Ana", last_name="Fernandez-Whitlock"
    )
    mixed_pipeline()
    target = deal(
        name="Changi logistics data platform renewal",
        health=HealthStatus.DANGER,
        territory="Singapore",
        sgd="1250000.00",
    )
    base = str(live_server)
    phone.goto(f"{base}/accounts/login/")
    _fits(phone, "login")
    screenshot(phone, "phone-login")
    _log_in(phone, base, "ana", "/")
    screens = {
        "dashboard": "/",
        "board": "/board/",
        "deal": f"/deals/{target.pk}/",
        "changes": "/changes/",
        "sync": "/sync/",
        "404": "/deals/999999/",
    }
    for name, path in screens.items():
        phone.goto(f"{base}{path}")
        _whole_page(phone)
        _fits(phone, name)
        _header_reachable(phone)
        screenshot(phone, f"phone-{name}")

    # The board's filters fold behind a button; the search and Sort stay.
    phone.goto(f"{base}/board/")
    expect(phone.locator("#id_q")).to_be_visible()
    expect(phone.locator("#sort")).to_be_visible()
    expect(phone.locator("summary:has-text('Territory')")).to_be_hidden()
    toggle = phone.locator(".filters-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(phone.locator("summary:has-text('Territory')")).to_be_visible()
    phone.click("summary:has-text('Owner')")
    _fits(phone, "board with a menu open")

    # The deal page's milestone labels never overlap.
    phone.goto(f"{base}/deals/{target.pk}/")
    boxes = [
        box
        for box in (label.bounding_box() for label in phone.locator(".steps .step-label").all())
        if box is not None
    ]
    assert len(boxes) == 7
    for index, one in enumerate(boxes):
        for other in boxes[index + 1 :]:
            apart = (
                one["x"] + one["width"] <= other["x"] + 0.5
                or other["x"] + other["width"] <= one["x"] + 0.5
                or one["y"] + one["height"] <= other["y"] + 0.5
                or other["y"] + other["height"] <= one["y"] + 0.5
            )
            assert apart, (one, other)

    # The CSRF failure page fits as well: a stale token, then Log out.
    phone.context.add_cookies([{"name": "csrftoken", "value": "x" * 32, "url": base}])
    phone.click("button:has-text('Log out')")
    expect(phone.locator("h1")).to_have_text("That form was out of date, so nothing was saved")
    _fits(phone, "csrf")


def test_error_pages_keep_the_site_and_a_way_back(page: Page, live_server: Any) -> None:
    UserFactory.create(username="raj", role=Role.REP, email="raj@example.com")
    UserFactory.create(username="fin", role=Role.VIEWER)
    colleague = deal(
        name="Penang data centre", owner=CrmUserFactory.create(email="ana@example.com")
    )
    base = str(live_server)

    _log_in(page, base, "raj", "/board/")
    page.goto(f"{base}/deals/999999/")
    _whole_page(page)
    expect(page.locator("h1")).to_have_text("That page or deal could not be found")
    screenshot(page, "error-404")
    # A Rep following a link to a colleague's deal: the same 404, saying why, nothing leaked.
    page.goto(f"{base}/deals/{colleague.pk}/")
    expect(page.locator("h1")).to_have_text("That page or deal could not be found")
    expect(page.locator("main")).to_contain_text("belongs to a colleague")
    expect(page.locator("main")).not_to_contain_text("Penang")
    page.click("text=Open the health board")
    expect(page.locator("h1")).to_have_text("Health board")

    # The CSRF failure: a form from before the token changed.
    page.context.add_cookies([{"name": "csrftoken", "value": "y" * 32, "url": base}])
    page.click("button:has-text('Log out')")
    _whole_page(page)
    expect(page.locator("h1")).to_have_text("That form was out of date, so nothing was saved")
    expect(page.locator("main a:has-text('Go back to the page')")).to_have_attribute(
        "href", f"{base}/board/"
    )
    page.context.clear_cookies()

    # 403: a Viewer's "Sync now", posted from an old page.
    _log_in(page, base, "fin", "/sync/")
    page.evaluate(
        """() => {
          const form = document.querySelector("form[action='/accounts/logout/']").cloneNode(true);
          form.action = "/sync/start/";
          document.body.appendChild(form);
          form.submit();
        }"""
    )
    expect(page.locator("h1")).to_have_text("Your login may not do this")
    _whole_page(page)
    expect(page.locator("main")).to_contain_text("Your role, Viewer, does not allow it.")
    expect(page.locator("main a:has-text('Open the health board')")).to_be_visible()
