"""The weekly digest as mail apps draw it (Chromium at 390 and 1366 px), and the E-mail
settings page, with demo-like data; the screenshots land in var/screenshots/."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from playwright.sync_api import Page, expect

from conftest import screenshot
from opportunities.models import ChangeEvent, ChangeKind, HealthStatus, Outcome
from opportunities.roles import Role
from opportunities.services.digests import digests_send
from opportunities.tests.factories import AccountFactory, CrmUserFactory, UserFactory
from opportunities.tests.screens import deal
from pipeline_pulse.dates import start_of_day

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SGT = timezone.get_fixed_timezone(480)
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=SGT)
LAST_MONDAY = date(2026, 11, 23)


def _reason(code: str, severity: str, message: str) -> list[dict[str, str]]:
    return [{"code": code, "severity": severity, "message": message}]


def _demo_org() -> None:
    owners = [
        CrmUserFactory.create(name=name, email=email)
        for name, email in (
            ("Priya Raman", "priya@example.com"),
            ("Daniel Tan", "daniel@example.com"),
            ("Mei Ling Koh", "meiling@example.com"),
        )
    ]
    accounts = {
        name: AccountFactory.create(name=name)
        for name in (
            "Straits Logistics Pte Ltd",
            "Marina Bay Health Group",
            "Kuala Lumpur Fintech Sdn Bhd",
            "Jakarta Retail Tbk",
            "Orchard Insurance",
            "Changi Aviation Services",
        )
    }
    q4 = date(2026, 12, 18)
    a = accounts
    deals = [
        deal(
            sgd="842500.00",
            probability=90,
            closing=q4,
            owner=owners[0],
            account=a["Straits Logistics Pte Ltd"],
            name="Warehouse analytics platform",
        ),
        deal(
            sgd="315240.75",
            probability=60,
            closing=q4,
            owner=owners[1],
            account=a["Orchard Insurance"],
            name="Claims automation phase 2",
        ),
        deal(
            sgd="128900.40",
            probability=20,
            closing=q4,
            owner=owners[2],
            account=a["Jakarta Retail Tbk"],
            name="Store footfall pilot",
        ),
        deal(
            sgd="456000.00",
            outcome=Outcome.WON,
            probability=100,
            closing=date(2026, 11, 26),
            owner=owners[0],
            account=a["Changi Aviation Services"],
            name="Baggage tracking rollout",
        ),
        deal(
            sgd="97350.20",
            outcome=Outcome.LOST,
            probability=0,
            closing=date(2026, 11, 25),
            owner=owners[1],
            account=a["Jakarta Retail Tbk"],
            name="Loyalty app rebuild",
        ),
    ]
    danger = [
        (
            "Data lake migration",
            "Marina Bay Health Group",
            "612400.00",
            date(2026, 11, 14),
            "Closing date passed 16 days ago (2026-11-14)",
        ),
        (
            "Core banking API gateway",
            "Kuala Lumpur Fintech Sdn Bhd",
            "388750.50",
            date(2027, 1, 29),
            "Proposal submitted 41 days ago and no PO yet (limit 30 days)",
        ),
        (
            "Fleet telematics",
            "Straits Logistics Pte Ltd",
            "204300.00",
            date(2027, 2, 12),
            "PO received 35 days ago and no kick-off yet (limit 21 days)",
        ),
        (
            "Underwriting models refresh",
            "Orchard Insurance",
            "76820.90",
            date(2027, 1, 8),
            "Closing date passed 9 days ago (2026-11-21)",
        ),
    ]
    for index, (name, account, sgd, closing, message) in enumerate(danger):
        deals.append(
            deal(
                sgd=sgd,
                health=HealthStatus.DANGER,
                probability=40,
                closing=closing,
                owner=owners[index % 3],
                account=a[account],
                name=name,
                health_reasons=_reason("danger", "danger", message),
            )
        )
    for name, account, sgd, closing, moved in (
        ("Patient portal redesign", "Marina Bay Health Group", "265000.00", date(2027, 1, 22), 6),
        (
            "Cross-border payments",
            "Kuala Lumpur Fintech Sdn Bhd",
            "143780.35",
            date(2027, 2, 26),
            12,
        ),
    ):
        deals.append(
            deal(
                sgd=sgd,
                health=HealthStatus.WARNING,
                probability=50,
                closing=closing,
                owner=owners[1],
                account=a[account],
                name=name,
                health_reasons=_reason(
                    "slipped",
                    "warning",
                    f"Closing date moved from Q4 2026 to Q1 2027 {moved} days ago",
                ),
            )
        )
    at = start_of_day(LAST_MONDAY) + timedelta(hours=10)
    events = [
        (deals[0], ChangeKind.NEW, 0, "842500.00"),
        (deals[1], ChangeKind.NEW, 1, "315240.75"),
        (deals[3], ChangeKind.WON, 3, "456000.00"),
        (deals[4], ChangeKind.LOST, 2, "97350.20"),
        (deals[5], ChangeKind.AMOUNT_DOWN, 4, "-45600.00"),
        (deals[6], ChangeKind.AMOUNT_UP, 1, "38750.50"),
        (deals[9], ChangeKind.CLOSING_DATE_PUSHED, 1, "265000.00"),
        (deals[10], ChangeKind.CLOSING_DATE_PUSHED, 4, "143780.35"),
        (deals[2], ChangeKind.PHASE_FORWARD, 2, "128900.40"),
    ]
    for opportunity, kind, days, sgd in events:
        ChangeEvent.objects.create(
            opportunity=opportunity,
            kind=kind,
            sgd_value=Decimal(sgd),
            occurred_at=at + timedelta(days=days),
        )


def _no_page_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]  # type: ignore[index]


@time_machine.travel(MONDAY, tick=True)
def test_the_digest_in_a_mail_app_on_a_phone_and_a_desktop(page: Page, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://pulse.example.com"
    _demo_org()
    UserFactory.create(role=Role.MANAGER, username="grace", first_name="Grace", last_name="Lim")
    digests_send()
    (message,) = mail.outbox
    assert isinstance(message, EmailMultiAlternatives)
    html = str(message.alternatives[0][0])
    browser = page.context.browser
    assert browser is not None
    for width in (390, 1366):
        reader = browser.new_context(viewport={"width": width, "height": 844}).new_page()
        reader.set_content(html)  # a page of its own, as a mail app shows it
        expect(reader.get_by_role("heading", name="Deals in Danger")).to_be_visible()
        expect(reader.get_by_role("link", name="Data lake migration")).to_have_attribute(
            "href", f"https://pulse.example.com/deals/{_pk('Data lake migration')}/"
        )
        _no_page_scroll(reader)
        screenshot(reader, f"digest-{width}")
        reader.context.close()


def _pk(name: str) -> int:
    from opportunities.models import Opportunity

    return Opportunity.objects.get(name=name).pk


def test_the_email_settings_page(page: Page, live_server: object, settings: Any) -> None:
    # The live server speaks HTTP only: pages poll, as in the embedded mode.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    UserFactory.create(role=Role.MANAGER, username="grace", first_name="Grace", last_name="Lim")
    base = str(live_server)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/settings/email/")
    page.fill("#id_username", "grace")
    page.fill("#id_password", "correct horse battery staple")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_have_text("E-mail settings")
    box = page.get_by_label("Send me the weekly digest")
    expect(box).to_be_checked()
    box.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_contain_text("no longer get the weekly digest")
    expect(page.get_by_label("Send me the weekly digest")).not_to_be_checked()
    _no_page_scroll(page)
    screenshot(page, "email-settings-390")
    page.set_viewport_size({"width": 1366, "height": 800})
    screenshot(page, "email-settings-1366")
