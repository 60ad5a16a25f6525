"""The pages in a real browser: log in, read the deal list, page through it with htmx."""

import pytest
from playwright.sync_api import Page, expect

from conftest import screenshot
from opportunities.roles import Role
from opportunities.tests.factories import OpportunityFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    # Transactional: the live server reads what the test writes. The flush afterwards empties
    # every table; the root conftest puts the data migrations' rows back.
    pytest.mark.django_db(transaction=True),
]


def test_log_in_and_page_through_the_deals(page: Page, live_server: object) -> None:
    UserFactory.create(username="mei", role=Role.MANAGER, first_name="Mei", last_name="Lim")
    OpportunityFactory.create_batch(55)
    base = str(live_server)

    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/accounts/login/?next=/")
    screenshot(page, "login")
    page.fill("#id_username", "mei")
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")

    expect(page.locator("h1")).to_have_text("Deals")
    expect(page.locator("header")).to_contain_text("Mei Lim · Manager")
    expect(page.locator("#deal-table tbody tr")).to_have_count(50)
    screenshot(page, "deals")

    page.click("text=Next →")
    expect(page).to_have_url(f"{base}/?page=2")
    expect(page.locator("#deal-table tbody tr")).to_have_count(5)
    expect(page.locator("h1")).to_have_text("Deals")  # the table was swapped, not the page

    page.click("text=Log out")
    expect(page).to_have_url(f"{base}/accounts/login/")
