"""Every screen, the Django admin and Swagger UI work under the Content-Security-Policy.

A CSP violation shows in Chromium's console as an error, and the `page` fixture fails the test
on any console error, so these pages run with zero violations.
"""

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django import Settings

from conftest import screenshot
from opportunities.roles import Role
from opportunities.tests.factories import UserFactory
from opportunities.tests.screens import mixed_pipeline

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _polling(settings: Settings) -> None:
    # The live server speaks HTTP only: pages poll for sync progress, as in the embedded mode.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def test_login_admin_and_api_docs_run_under_the_policy(page: Page, live_server: object) -> None:
    UserFactory.create(username="ops", role=Role.ADMIN)
    deals = mixed_pipeline()
    base = str(live_server)

    response = page.goto(f"{base}/accounts/login/")
    assert response is not None
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.fill("#id_username", "ops")
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Dashboard")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('canvas'))")

    # The screens, with their charts, htmx swaps and Back (no inline style or script anywhere).
    page.click("a.kpi:has-text('Deals in Danger')")
    expect(page).to_have_url(re.compile(r"/board/\?outcome=open&health=danger$"))
    page.fill("#id_q", "a")
    expect(page).to_have_url(re.compile(r"q=a"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"/board/\?outcome=open&health=danger$"))
    expect(page.locator("#id_q")).to_have_value("")
    page.go_back()
    expect(page.locator("h1")).to_have_text("Dashboard")
    for path in ("/changes/", f"/deals/{deals[0].pk}/", "/sync/", "/settings/email/"):
        page.goto(f"{base}{path}")
        expect(page.locator("main h1")).to_be_visible()

    for path in (
        "/admin/",
        "/admin/opportunities/conflict/",
        "/admin/sync/syncrun/",
        "/admin/opportunities/opportunity/",
        "/admin/pipeline_pulse/apitoken/add/",
    ):
        page.goto(f"{base}{path}")
        expect(page.locator("#content")).to_be_visible()
    screenshot(page, "admin-under-csp")

    response = page.goto(f"{base}/api/docs/")
    assert response is not None
    assert "'nonce-" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Pipeline Pulse API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    page.locator("#operations-opportunities-opportunities_list").click()
    expect(page.locator(".opblock.is-open")).to_be_visible()
    screenshot(page, "api-docs-under-csp")
