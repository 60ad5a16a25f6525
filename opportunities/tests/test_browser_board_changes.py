"""The board's changes since a day and saved views in a real browser, as a sales leader runs
the Monday pipeline meeting: choose the day, read the markers, keep the view, reopen it.

Screenshots land in var/screenshots/ (board-changes-1366 and -390 are the docs' ones).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Page, expect
from pytest_django import Settings

from conftest import screenshot
from opportunities.models import Opportunity, Outcome
from opportunities.roles import Role
from opportunities.services.health import health_recompute
from opportunities.services.history import DEAL_STATE, DealChange, deal_changes_record
from opportunities.tests.factories import AccountFactory, CrmUserFactory, UserFactory
from opportunities.tests.screens import deal
from pipeline_pulse.dates import start_of_day

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Thursday 3 Dec 2026, 10:00 in Singapore; the clock runs on from there.
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _polling(settings: Settings) -> None:
    settings.CHANNEL_LAYERS = IN_MEMORY


@pytest.fixture
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def _at(day: date) -> datetime:
    return start_of_day(day) + timedelta(hours=10)


def _record(opportunity: Opportunity, day: date, **values: Any) -> None:
    before = {name: getattr(opportunity, name) for name in DEAL_STATE}
    Opportunity.objects.filter(pk=opportunity.pk).update(**values)
    deal_changes_record(changes=[DealChange.before(opportunity.pk, before)], at=_at(day))
    opportunity.refresh_from_db()


def _week_of_a_sales_team() -> None:
    """A believable week: pushes out of the quarter, amounts moving, a win, a loss, new deals."""
    owners = {
        name: CrmUserFactory.create(name=name)
        for name in ("Mei Lin Tan", "Arjun Nair", "Siti Rahman", "Daniel Koh")
    }
    first_seen = _at(date(2026, 8, 14))

    def opportunity(name: str, account: str, owner: str, **fields: Any) -> Opportunity:
        created = fields.pop("created", first_seen)
        made = deal(
            name=name,
            account=AccountFactory.create(name=account),
            owner=owners[owner],
            fx_rate=Decimal(1),
            **fields,
        )
        Opportunity.objects.filter(pk=made.pk).update(
            zoho_created_time=created,
            created_at=created,
            stage_entered_at=created,
            phase_entered_at=created,
            zoho_modified_time=NOW,
        )
        made.refresh_from_db()
        deal_changes_record(changes=[DealChange(made.pk, created=True)], at=created)
        made.refresh_from_db()
        return made

    slipped = opportunity(
        "Jurong Port data platform",
        "Jurong Port",
        "Mei Lin Tan",
        sgd="420000.00",
        closing=date(2026, 12, 18),
        territory="Singapore",
        phase=3,
        probability=60,
        stage="Proposal/Price Quote",
    )
    _record(slipped, date(2026, 11, 12), closing_date=date(2026, 12, 31))
    _record(
        slipped,
        date(2026, 12, 1),
        closing_date=date(2027, 1, 22),
        amount=Decimal("385000.00"),
        amount_sgd=Decimal("385000.00"),
    )
    grown = opportunity(
        "Changi cargo analytics",
        "Changi Airport Group",
        "Arjun Nair",
        sgd="180000.00",
        closing=date(2026, 12, 22),
        territory="Singapore",
        phase=3,
        probability=70,
        stage="Negotiation/Review",
    )
    _record(grown, date(2026, 12, 2), amount=Decimal("236500.00"), amount_sgd=Decimal("236500.00"))
    pulled = opportunity(
        "Maybank cloud migration",
        "Maybank",
        "Siti Rahman",
        sgd="310000.00",
        closing=date(2027, 1, 29),
        territory="Malaysia",
        phase=2,
        probability=50,
        stage="Needs Analysis",
    )
    _record(pulled, date(2026, 12, 1), closing_date=date(2026, 12, 23))
    won = opportunity(
        "Grab fleet telemetry",
        "Grab Holdings",
        "Daniel Koh",
        sgd="96500.00",
        closing=date(2026, 12, 4),
        territory="Singapore",
        phase=3,
        probability=90,
        stage="Negotiation/Review",
    )
    _record(
        won, date(2026, 12, 2), outcome=Outcome.WON, phase=4, stage="Closed Won", probability=100
    )
    lost = opportunity(
        "Petronas field sensors",
        "Petronas",
        "Siti Rahman",
        sgd="150000.00",
        closing=date(2026, 12, 15),
        territory="Malaysia",
        phase=2,
        probability=30,
        stage="Value Proposition",
    )
    _record(lost, date(2026, 11, 30), outcome=Outcome.LOST, stage="Closed Lost", probability=0)
    opportunity(
        "Sembcorp energy dashboard",
        "Sembcorp Industries",
        "Mei Lin Tan",
        sgd="64000.00",
        closing=date(2027, 2, 26),
        territory="Singapore",
        phase=1,
        probability=20,
        stage="Qualification",
        created=_at(date(2026, 12, 2)),
    )
    overdue = opportunity(
        "Telkom call-centre AI",
        "Telkom Indonesia",
        "Arjun Nair",
        sgd="128000.00",
        closing=date(2026, 11, 20),
        territory="Indonesia",
        phase=2,
        probability=40,
        stage="Needs Analysis",
    )
    _record(overdue, date(2026, 11, 5), closing_date=date(2026, 11, 28))
    _record(overdue, date(2026, 12, 1), closing_date=date(2027, 2, 13))
    moved_stage = opportunity(
        "DBS branch analytics",
        "DBS Bank",
        "Daniel Koh",
        sgd="205000.00",
        closing=date(2027, 3, 19),
        territory="Singapore",
        phase=2,
        probability=40,
        stage="Needs Analysis",
    )
    _record(moved_stage, date(2026, 12, 2), stage="Value Proposition")
    for index, (name, account, owner, territory) in enumerate(
        [
            ("Keppel port automation", "Keppel Corporation", "Mei Lin Tan", "Singapore"),
            ("AirAsia loyalty platform", "Capital A", "Siti Rahman", "Malaysia"),
            ("Gojek merchant insights", "GoTo Group", "Arjun Nair", "Indonesia"),
            ("SingTel network planning", "Singtel", "Daniel Koh", "Singapore"),
        ]
    ):
        opportunity(
            name,
            account,
            owner,
            sgd=f"{88000 + index * 23500}.00",
            closing=date(2027, 1, 15) + timedelta(days=index * 20),
            territory=territory,
            phase=2,
            probability=40,
            stage="Needs Analysis",
        )
    health_recompute()


def _log_in(page: Page, base: str, username: str, next_path: str) -> None:
    page.goto(f"{base}{next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")


def test_choose_a_day_read_the_markers_save_and_reopen_a_view(
    page: Page, live_server: Any, clock: None
) -> None:
    UserFactory.create(username="mei", role=Role.MANAGER, first_name="Mei", last_name="Lim")
    _week_of_a_sales_team()
    base = live_server.url
    _log_in(page, base, "mei", "/board/")
    expect(page.locator("h1")).to_have_text("Health board")
    # Monday by default: this week's moves are marked.
    expect(page.get_by_role("columnheader", name="Since 30 Nov 2026")).to_be_visible()
    row = page.locator("tr", has_text="Jurong Port data platform")
    expect(row.locator("td.moves [data-marker=closing_date_pushed]")).to_contain_text(
        "Pushed 22d · Q4 2026 → Q1 2027"
    )
    expect(row.locator("td.moves [data-marker=amount_down]")).to_contain_text(
        "Amount \u2212S$35,000.00"
    )
    expect(row).to_contain_text("Closing date slipped from Q4 2026 to Q1 2027 on 1 Dec")
    # Choose an earlier day: the 12 Nov push counts too, and the header says from when.
    page.fill("#id_since", "2026-11-09")
    page.locator("#id_since").dispatch_event("change")
    expect(page).to_have_url(re.compile(r"since=2026-11-09"))
    expect(page.get_by_role("columnheader", name="Since 9 Nov 2026")).to_be_visible()
    expect(row.locator("td.moves [data-marker=closing_date_pushed]")).to_contain_text(
        "Pushed 35d · Q4 2026 → Q1 2027"
    )
    # Only what moved, with Lost ticked too.
    page.get_by_label("Moved since").check()
    expect(page.locator("tr", has_text="Keppel port automation")).to_have_count(0)
    page.locator("summary", has_text="Outcome").click()
    page.get_by_label("Lost").check()
    expect(page.locator("tr", has_text="Petronas field sensors")).to_have_count(1)
    page.locator("summary", has_text="Outcome").click()
    page.fill("#id_since", "2026-11-30")
    page.locator("#id_since").dispatch_event("change")
    expect(page.get_by_role("columnheader", name="Since 30 Nov 2026")).to_be_visible()
    petronas = page.locator("tr", has_text="Petronas field sensors")
    expect(petronas.locator("td.moves [data-marker=lost]")).to_be_visible()
    expect(petronas.locator("td.moves [data-marker=stage_moved]")).to_have_count(0)
    page.set_viewport_size({"width": 1366, "height": 900})
    screenshot(page, "board-changes-1366")
    # Save the view, go elsewhere, reopen it from the menu.
    page.locator("#saved-views summary").click()
    page.fill("#id_view_name", "Moved this week")
    page.get_by_role("button", name="Save view").click()
    expect(page.get_by_role("status")).to_contain_text("Saved the view “Moved this week”")
    page.goto(f"{base}/board/")
    expect(page.locator("tr", has_text="Keppel port automation")).to_have_count(1)
    page.locator("#saved-views summary").click()
    page.get_by_role("link", name="Moved this week").click()
    expect(page).to_have_url(re.compile(r"/board/\?.*moved=true"))
    assert "since=2026-11-30" in page.url
    expect(page.locator("tr", has_text="Keppel port automation")).to_have_count(0)
    expect(page.locator("tr", has_text="Petronas field sensors")).to_have_count(1)
    expect(page.get_by_label("Moved since")).to_be_checked()
    # Readable at 390 px with no page-level horizontal scroll.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "Array.from(document.querySelectorAll('body *')).filter(e => "
        "e.getBoundingClientRect().right > 392 && !e.closest('.table-wrap, .main-nav')"
        " && getComputedStyle(e).visibility !== 'hidden')"
        ".slice(0, 12)"
        ".map(e => e.tagName + '.' + e.className + ' '"
        " + Math.round(e.getBoundingClientRect().right))"
    )
    # On a phone the markers sit under the deal's name.
    expect(row.locator(".moves-inline [data-marker=closing_date_pushed]")).to_be_visible()
    screenshot(page, "board-changes-390")
    assert width <= 390, f"the page scrolls sideways at 390 px ({width}): {wide}"
