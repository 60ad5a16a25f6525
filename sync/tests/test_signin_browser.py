"""Sign in with Zoho in a real browser: the login page, the simulated Zoho page, and back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from playwright.sync_api import Page, expect
from pytest_django import Settings

from conftest import screenshot
from opportunities.roles import Role
from opportunities.tests.factories import UserFactory
from simulator.server import SimulatorServer
from simulator.zoho import ZohoSimulator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A deal owner of the simulated org: one of the people its sign-in page offers.
AISHA_EMAIL = "aisha.rahman@pulse-demo.example.com"


@pytest.fixture(autouse=True)
def _zoho(settings: Settings) -> Iterator[None]:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    simulator = ZohoSimulator(deals=1)
    assert simulator.sign_in.person(email=AISHA_EMAIL) is not None
    with SimulatorServer([simulator]) as server:
        settings.ZOHO_ACCOUNTS_URL = server.url
        settings.ZOHO_LOGIN_CLIENT_ID = simulator.oauth.client_id
        settings.ZOHO_LOGIN_CLIENT_SECRET = simulator.oauth.client_secret
        yield


def _no_page_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]  # type: ignore[index]


def test_sign_in_with_zoho_redirects_to_zoho_and_back_signed_in(
    page: Page, live_server: object
) -> None:
    UserFactory.create(
        username="aisha", email=AISHA_EMAIL, role=Role.REP, first_name="Aisha", last_name="Rahman"
    )
    base = str(live_server)

    page.set_viewport_size({"width": 1366, "height": 800})
    page.goto(f"{base}/accounts/login/")
    button = page.get_by_role("button", name="Sign in with Zoho")
    expect(button).to_be_visible()
    screenshot(page, "login-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(button).to_be_visible()
    _no_page_scroll(page)
    screenshot(page, "login-390")

    button.click()
    expect(page.locator("h1")).to_have_text("Sign in to Zoho (simulator)")
    page.get_by_role("button", name="Aisha Rahman").click()

    expect(page.locator("main h1")).to_have_text("Dashboard")
    expect(page.locator(".who")).to_contain_text("Aisha Rahman")
    expect(page.locator(".who")).to_contain_text("Rep")


def test_a_zoho_user_without_a_login_sees_why_on_the_login_page(
    page: Page, live_server: object
) -> None:
    base = str(live_server)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("button", name="Sign in with Zoho").click()
    page.get_by_role("button", name="Sam Guest").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "No Pipeline Pulse login has the e-mail address sam.guest@partner.example.net"
    )
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    _no_page_scroll(page)
    screenshot(page, "login-refused-390")


def test_password_reset_pages(page: Page, live_server: object) -> None:
    UserFactory.create(username="aisha", email=AISHA_EMAIL, role=Role.REP)
    base = str(live_server)
    page.set_viewport_size({"width": 1366, "height": 800})
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("link", name="Forgot password?").click()
    expect(page.locator("h1")).to_have_text("Reset your password")
    screenshot(page, "password-reset-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    _no_page_scroll(page)
    screenshot(page, "password-reset-390")
    page.fill("#id_email", AISHA_EMAIL)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.locator("h1")).to_have_text("Check your inbox")
    _no_page_scroll(page)
    screenshot(page, "password-reset-sent-390")
    page.set_viewport_size({"width": 1366, "height": 800})
    screenshot(page, "password-reset-sent-1366")

    # The e-mail, as a phone's mail app draws its HTML part, and the link it carries.
    (message,) = mail.outbox
    assert isinstance(message, EmailMultiAlternatives)
    html = str(message.alternatives[0][0])
    browser = page.context.browser
    assert browser is not None
    mail_app = browser.new_context(viewport={"width": 390, "height": 844})
    reader = mail_app.new_page()
    reader.set_content(html)  # a page of its own: not under the site's security policy
    expect(reader.get_by_role("link", name="Choose a new password")).to_be_visible()
    _no_page_scroll(reader)
    screenshot(reader, "password-reset-email-390")
    link = reader.get_by_role("link", name="Choose a new password").get_attribute("href")
    mail_app.close()
    assert link is not None
    assert link.startswith(base)
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(link)
    expect(page.locator("h1")).to_have_text("Choose a new password")
    page.fill("#id_new_password1", "aisha")
    page.fill("#id_new_password2", "aisha")
    page.get_by_role("button", name="Set password").click()
    expect(page.locator(".field-error").first).to_be_visible()
    _no_page_scroll(page)
    screenshot(page, "password-reset-confirm-390")
    page.fill("#id_new_password1", "mangosteen-harbour-42")
    page.fill("#id_new_password2", "mangosteen-harbour-42")
    page.get_by_role("button", name="Set password").click()
    expect(page.locator("h1")).to_have_text("Password changed")
    page.get_by_role("link", name="Log in").click()
    page.fill("#id_username", "aisha")
    page.fill("#id_password", "mangosteen-harbour-42")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("main h1")).to_have_text("Dashboard")
