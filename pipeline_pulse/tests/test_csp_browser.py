"""The login page, the Django admin and Swagger UI work under the Content-Security-Policy.

A CSP violation shows in Chromium's console as an error, and the `page` fixture fails the test
on any console error, so these pages run with zero violations.
"""

import pytest
from playwright.sync_api import Page, expect

from conftest import screenshot
from opportunities.roles import Role
from opportunities.tests.factories import OpportunityFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_admin_and_api_docs_run_under_the_policy(page: Page, live_server: object) -> None:
    UserFactory.create(username="ops", role=Role.ADMIN)
    OpportunityFactory.create_batch(2)
    base = str(live_server)

    response = page.goto(f"{base}/accounts/login/")
    assert response is not None
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.fill("#id_username", "ops")
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Deals")

    for path in (
        "/admin/",
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
