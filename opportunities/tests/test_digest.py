"""The weekly digest: the screens' figures to the cent, role scoping, opt-out, once a week."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from opportunities.digest import digest_week, weekly_digest
from opportunities.models import (
    ChangeEvent,
    ChangeKind,
    EmailPreferences,
    HealthStatus,
    Outcome,
    SentDigest,
)
from opportunities.roles import Role
from opportunities.services.digests import digests_send
from opportunities.tasks import weekly_digests
from opportunities.tests.factories import CrmUserFactory, UserFactory
from opportunities.tests.screens import deal
from pipeline_pulse.dates import start_of_day

pytestmark = pytest.mark.django_db

SGT = timezone.get_fixed_timezone(480)
# Monday 30 Nov 2026, 08:00 Singapore: beat's run. Last week is Mon 23 to Sun 29 Nov.
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=SGT)
LAST_MONDAY = date(2026, 11, 23)
SITE = "https://pulse.example.com"
SLIPPED = {
    "code": "slipped",
    "severity": HealthStatus.WARNING.value,
    "message": "Closing date moved from Q4 2026 to Q1 2027 9 days ago",
}


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.SITE_URL = SITE
    settings.WEEKLY_DIGEST_TOP_DEALS = 3
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _event(opportunity: Any, kind: str, at: datetime, sgd: str) -> ChangeEvent:
    return ChangeEvent.objects.create(
        opportunity=opportunity, kind=kind, sgd_value=Decimal(sgd), occurred_at=at
    )


def _org() -> dict[str, Any]:
    """Deals of every kind the digest reads, some of them the Rep's (rep@example.com)."""
    rep_owner = CrmUserFactory.create(name="Rita Rep", email="rep@example.com")
    other = CrmUserFactory.create(name="Omar Other", email="omar@example.com")
    q4 = date(2026, 12, 15)
    deals = {
        # Forecast Q4 2026, one of each category, amounts with cents.
        "commit": deal(
            sgd="120000.55", probability=90, closing=q4, owner=other, name="Harbour ERP"
        ),
        "best": deal(sgd="80000.10", probability=60, closing=q4, owner=rep_owner, name="Rita Best"),
        "pipe": deal(sgd="15000.33", probability=10, closing=q4, owner=other, name="Small pilot"),
        "won": deal(
            sgd="50000.01",
            outcome=Outcome.WON,
            probability=100,
            closing=date(2026, 11, 20),
            owner=other,
            name="Won in Nov",
        ),
        "lost": deal(
            sgd="7000.07",
            outcome=Outcome.LOST,
            probability=0,
            closing=date(2026, 10, 5),
            owner=rep_owner,
            name="Lost in Oct",
        ),
        "no_sgd": deal(sgd=None, probability=85, closing=q4, owner=other, name="Rupiah deal"),
        # Danger: open ones (three of them the biggest), one Rep's; one won with its invoice
        # unpaid is delivery at risk, which the dashboard and the digest leave out of Danger.
        "d1": deal(
            sgd="300000.99",
            health=HealthStatus.DANGER,
            probability=40,
            closing=date(2026, 11, 10),
            owner=other,
            name="Overdue migration",
        ),
        "d2": deal(
            sgd="210000.50",
            health=HealthStatus.DANGER,
            probability=40,
            closing=date(2027, 2, 1),
            owner=other,
            name="Stalled PO",
        ),
        "d3": deal(
            sgd="99999.99",
            health=HealthStatus.DANGER,
            probability=30,
            closing=date(2027, 1, 20),
            owner=rep_owner,
            name="Rita in trouble",
        ),
        "d4": deal(
            sgd="1234.56",
            health=HealthStatus.DANGER,
            outcome=Outcome.WON,
            probability=100,
            closing=date(2026, 9, 30),
            owner=other,
            name="Unpaid invoice",
        ),
        "d_deleted": deal(
            sgd="999999.00",
            health=HealthStatus.DANGER,
            is_deleted=True,
            owner=other,
            name="Deleted in Zoho",
        ),
        # Slipped: open deals with the reason; a lost one with it does not count.
        "s1": deal(
            sgd="45000.45",
            health=HealthStatus.WARNING,
            closing=date(2027, 1, 15),
            owner=other,
            health_reasons=[SLIPPED],
            name="Slipped cloud",
        ),
        "s2": deal(
            sgd="12500.25",
            health=HealthStatus.WARNING,
            closing=date(2027, 2, 15),
            owner=rep_owner,
            health_reasons=[
                {"code": "stale", "severity": "warning", "message": "No update"},
                SLIPPED,
            ],
            name="Rita slipped",
        ),
        "s_lost": deal(
            sgd="5000.00",
            outcome=Outcome.LOST,
            closing=date(2027, 1, 5),
            owner=other,
            health_reasons=[SLIPPED],
            name="Slipped then lost",
        ),
    }
    at = start_of_day(LAST_MONDAY)
    # Last week, edges included: Monday 00:00 and Sunday 23:59 Singapore.
    _event(deals["commit"], ChangeKind.NEW, at, "120000.55")
    _event(deals["best"], ChangeKind.NEW, at + timedelta(days=2), "80000.10")
    _event(deals["won"], ChangeKind.WON, at + timedelta(days=3, hours=4), "50000.01")
    _event(deals["lost"], ChangeKind.LOST, at + timedelta(days=4), "7000.07")
    _event(deals["d1"], ChangeKind.AMOUNT_DOWN, at + timedelta(days=5), "-1500.37")
    _event(
        deals["d2"], ChangeKind.AMOUNT_DOWN, at + timedelta(days=6, hours=23, minutes=59), "-250.01"
    )
    _event(deals["s1"], ChangeKind.CLOSING_DATE_PUSHED, at + timedelta(days=1), "45000.45")
    _event(deals["s2"], ChangeKind.CLOSING_DATE_PUSHED, at + timedelta(days=1, hours=3), "12500.25")
    # Outside the week: the Sunday before and this Monday morning.
    _event(deals["pipe"], ChangeKind.NEW, at - timedelta(minutes=1), "15000.33")
    _event(deals["d3"], ChangeKind.PHASE_BACKWARD, start_of_day(MONDAY.date()), "99999.99")
    return deals


def _parts(message: Any) -> tuple[str, str]:
    (alternative, mimetype) = message.alternatives[0]
    assert mimetype == "text/html"
    return message.body, alternative


def _money(text: str) -> Decimal:
    text = html.unescape(text).replace("\u2212", "-").replace("S$", "").replace(",", "")
    return Decimal(text)


def _text_lines(body: str, heading: str) -> dict[str, tuple[int, Decimal]]:
    """ "- Label: N · S$X" lines under a heading of the plain-text part."""
    section = body.split(heading, 1)[1].split("\n\n", 1)[0]
    return {
        label: (int(count.replace(",", "")), _money(amount))
        for label, count, amount in re.findall(r"^- ([^:\n]+): ([\d,]+) · (\S+)$", section, re.M)
    }


def _changes_page(client: Client) -> dict[str, tuple[int, Decimal]]:
    response = client.get(reverse("changes"), {"period": "last_week"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "23 Nov 2026 \u2013 29 Nov 2026" in page
    found = re.findall(
        r'<h3 id="kind-[a-z_]+">([^<]+)</h3>\s*'
        r'<p class="tabular">([\d,]+) · <span title="[^"]+">([^<]+)</span>',
        page,
    )
    return {label: (int(n.replace(",", "")), _money(amount)) for label, n, amount in found}


def _dashboard_danger(client: Client) -> tuple[int, Decimal]:
    page = client.get(reverse("home")).content.decode()
    match = re.search(
        r'Deals in Danger</span>\s*<span class="kpi-value tabular">([\d,]+)</span>\s*'
        r'<span class="kpi-note">Open deals · <span class="figure" title="([^"]+)">',
        page,
    )
    assert match, "the dashboard shows its Danger KPI"
    return int(match.group(1).replace(",", "")), _money(match.group(2))


def _forecast_totals(client: Client) -> dict[str, tuple[int, Decimal]]:
    """The forecast page's category figures, and its total of deals and SGD."""
    response = client.get(reverse("forecast"), {"quarter": "2026Q4"})
    assert response.status_code == 200
    page = response.content.decode()
    found = re.findall(
        r'<span class="kpi-label">([^<]+)</span>\s*<span class="kpi-value">'
        r'<span class="figure" title="([^"]+)">.*?<span class="kpi-note">([\d,]+) deals?',
        page,
        re.S,
    )
    result = {label: (int(n.replace(",", "")), _money(amount)) for label, amount, n in found}
    assert list(result) == ["Closed", "Commit", "Best case", "Pipeline", "Omitted"]
    deals_total = re.search(r"([\d,]+) deals? closing in the quarter", page)
    assert deals_total
    # The quarter's SGD total: the forecast tables' footer.
    tfoot = page.split("<tfoot>", 1)[1].split("</tfoot>", 1)[0]
    total_sgd = re.search(r"<strong>([^<]+)</strong>", tfoot)
    assert total_sgd
    result["Total"] = (int(deals_total.group(1).replace(",", "")), _money(total_sgd.group(1)))
    return result


def _login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


@time_machine.travel(MONDAY, tick=False)
def test_every_figure_of_a_managers_digest_is_the_screens_to_the_cent(client: Client) -> None:
    deals = _org()
    manager = UserFactory.create(role=Role.MANAGER, username="mia", email="mia@example.com")

    run = digests_send(now=timezone.now())

    assert run.sent == ["mia"]
    (message,) = mail.outbox
    assert message.to == ["mia@example.com"]
    assert message.subject == "Pipeline Pulse weekly digest: 23 Nov 2026 to 29 Nov 2026"
    text, page = _parts(message)
    _login(client, manager)

    # What changed last week: the What changed page for "Last week", kind by kind.
    on_screen = _changes_page(client)
    in_mail = _text_lines(text, "WHAT CHANGED LAST WEEK")
    assert in_mail == on_screen
    assert in_mail == {
        "New deal": (2, Decimal("200000.65")),
        "Won": (1, Decimal("50000.01")),
        "Lost": (1, Decimal("7000.07")),
        "Amount down": (2, Decimal("-1750.38")),
        "Closing date pushed out": (2, Decimal("57500.70")),
    }

    # Deals in Danger: the dashboard's KPI.
    count, amount = _dashboard_danger(client)
    match = re.search(r"DEALS IN DANGER: ([\d,]+) · (\S+) at stake", text)
    assert match
    assert (int(match.group(1)), _money(match.group(2))) == (count, amount)
    assert (count, amount) == (3, Decimal("610001.48"))  # open deals: not the won "d4"

    # The quarter's forecast by category: the forecast page's totals row.
    forecast_in_mail = _text_lines(text, "Q4 2026 FORECAST BY CATEGORY")
    assert forecast_in_mail == _forecast_totals(client)
    assert forecast_in_mail["Closed"] == (1, Decimal("50000.01"))

    # Slipped deals: live open deals with the "slipped" reason, biggest first.
    match = re.search(r"SLIPPED DEALS: ([\d,]+) · (\S+)", text)
    assert match
    assert (int(match.group(1)), _money(match.group(2))) == (2, Decimal("57500.70"))
    assert text.index("Slipped cloud") < text.index("Rita slipped")
    assert "Slipped then lost" not in text

    # The HTML part says the same: every figure of the text part is in it.
    for figure in re.findall(r"\u2212?S\$[\d,]+\.\d\d", text):
        assert figure in page, figure
    # The top 3 in Danger, biggest first, each linking to its deal page: all three open ones.
    listed = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a> <span', page)
    danger_names = [name for _, name in listed][:3]
    assert danger_names == ["Overdue migration", "Stalled PO", "Rita in trouble"]
    assert "more on the health board" not in page
    assert "Deleted in Zoho" not in text
    assert "Deleted in Zoho" not in page
    for url, name in listed:
        key = next(k for k, d in deals.items() if d.name == html.unescape(name))
        assert url == f"{SITE}/deals/{deals[key].pk}/"
        assert url in text


@time_machine.travel(MONDAY, tick=False)
def test_a_reps_digest_has_only_their_own_deals(client: Client) -> None:
    deals = _org()
    rep = UserFactory.create(role=Role.REP, username="rita", email="rep@example.com")
    EmailPreferences.objects.create(user=rep, weekly_digest=True)
    UserFactory.create(role=Role.REP, username="ron", email="ron@example.com")  # not opted in

    digests_send(now=timezone.now())

    (message,) = mail.outbox
    assert message.to == ["rep@example.com"]
    text, page = _parts(message)
    mine = {d.name for d in deals.values() if d.owner and d.owner.email == "rep@example.com"}
    others = {d.name for d in deals.values()} - mine
    for name in others:
        assert name not in text
        assert name not in page
    assert "Rita in trouble" in text
    assert "Rita slipped" in text
    _login(client, rep)
    assert _text_lines(text, "WHAT CHANGED LAST WEEK") == _changes_page(client)
    assert _text_lines(text, "Q4 2026 FORECAST BY CATEGORY") == _forecast_totals(client)
    assert re.search(r"DEALS IN DANGER: 1 · S\$99,999\.99 at stake", text)
    assert re.search(r"SLIPPED DEALS: 1 · S\$12,500\.25", text)
    assert "your own deals" in text


@time_machine.travel(MONDAY, tick=False)
def test_who_gets_it_managers_and_viewers_unless_they_opt_out() -> None:
    UserFactory.create(role=Role.MANAGER, username="m1")
    out = UserFactory.create(role=Role.MANAGER, username="m2")
    EmailPreferences.objects.create(user=out, weekly_digest=False)
    UserFactory.create(role=Role.VIEWER, username="v1")
    UserFactory.create(role=Role.ADMIN, username="a1")  # off unless opted in
    UserFactory.create(role=Role.REP, username="r1")  # off unless opted in
    UserFactory.create(role=Role.MANAGER, username="noaddress", email="")
    UserFactory.create(role=Role.MANAGER, username="gone", is_active=False)
    UserFactory.create(username="norole")

    run = digests_send(now=timezone.now())

    assert run.sent == ["m1", "v1"]
    assert sorted(m.to[0] for m in mail.outbox) == ["m1@example.com", "v1@example.com"]


@time_machine.travel(MONDAY, tick=False)
def test_running_twice_sends_one_digest_per_login_per_week() -> None:
    UserFactory.create(role=Role.MANAGER, username="m1")
    UserFactory.create(role=Role.VIEWER, username="v1")

    first = digests_send(now=timezone.now())
    # A retried task later the same week, and the beat task itself.
    second = digests_send(now=timezone.now() + timedelta(days=2))
    third = weekly_digests()

    assert first.sent == ["m1", "v1"]
    assert second.sent == []
    assert second.already_sent == ["m1", "v1"]
    assert third == {"sent": 0, "already_sent": 2, "failed": 0}
    assert len(mail.outbox) == 2
    assert set(SentDigest.objects.values_list("week_start", flat=True)) == {LAST_MONDAY}
    # Next Monday is another week.
    with time_machine.travel(MONDAY + timedelta(days=7), tick=False):
        assert digests_send().sent == ["m1", "v1"]
    assert len(mail.outbox) == 4


@time_machine.travel(MONDAY, tick=False)
def test_a_failed_send_is_retried_by_the_next_run(monkeypatch: pytest.MonkeyPatch) -> None:
    UserFactory.create(role=Role.MANAGER, username="m1")
    from django.core.mail import EmailMultiAlternatives

    original = EmailMultiAlternatives.send

    def refuse(self: Any, fail_silently: bool = False) -> int:
        raise OSError("mail server down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    assert digests_send().failed == ["m1"]
    assert not SentDigest.objects.exists()
    monkeypatch.setattr(EmailMultiAlternatives, "send", original)
    assert digests_send().sent == ["m1"]
    assert len(mail.outbox) == 1


@time_machine.travel(MONDAY, tick=False)
def test_dry_run_prints_who_would_get_what_and_sends_nothing(capsys: Any) -> None:
    _org()
    UserFactory.create(role=Role.MANAGER, username="mia", email="mia@example.com")

    call_command("send_digests", "--dry-run")

    out = capsys.readouterr().out
    assert "Dry run, nothing sent" in out
    assert "mia <mia@example.com> (Manager)" in out
    assert "3 in Danger (S$610,001.48)" in out
    assert not mail.outbox
    assert not SentDigest.objects.exists()


@time_machine.travel(MONDAY, tick=False)
def test_the_command_sends_to_one_login_and_refuses_an_unknown_one(capsys: Any) -> None:
    UserFactory.create(role=Role.MANAGER, username="m1")
    UserFactory.create(role=Role.MANAGER, username="m2")

    call_command("send_digests", "--user", "m2")

    assert [m.to for m in mail.outbox] == [["m2@example.com"]]
    assert "1 sent (m2)" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No login 'nobody'"):
        call_command("send_digests", "--user", "nobody")


@time_machine.travel(MONDAY, tick=False)
def test_the_beat_task_does_nothing_when_switched_off(settings: Any) -> None:
    UserFactory.create(role=Role.MANAGER, username="m1")
    settings.WEEKLY_DIGEST_ENABLED = False
    assert weekly_digests() == {"sent": 0, "already_sent": 0, "failed": 0}
    assert not mail.outbox


def test_beat_sends_it_monday_at_eight_singapore(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["weekly-digest"]
    assert entry["task"] == "opportunities.weekly_digests"
    schedule = entry["schedule"]
    assert schedule.hour == {8}
    assert schedule.minute == {0}
    assert schedule.day_of_week == {1}
    assert settings.CELERY_TIMEZONE == "Asia/Singapore"


def test_the_week_is_the_previous_monday_to_sunday_in_singapore() -> None:
    # Monday 00:30 Singapore is still Sunday in UTC: the week is Singapore's.
    assert digest_week(datetime(2026, 11, 30, 0, 30, tzinfo=SGT)) == (
        date(2026, 11, 23),
        date(2026, 11, 29),
    )
    assert digest_week(datetime(2026, 12, 6, 23, 0, tzinfo=SGT)) == (
        date(2026, 11, 23),
        date(2026, 11, 29),
    )


@time_machine.travel(MONDAY, tick=False)
def test_an_empty_week_still_reads_well() -> None:
    user = UserFactory.create(role=Role.VIEWER, username="v1")
    digests_send()
    text, page = _parts(mail.outbox[0])
    assert "No changes last week." in text
    assert "No changes last week." in page
    assert "DEALS IN DANGER: 0 · S$0.00 at stake" in text
    assert weekly_digest(user).is_empty


@time_machine.travel(MONDAY, tick=False)
def test_the_email_is_phone_friendly_and_self_contained() -> None:
    _org()
    UserFactory.create(role=Role.MANAGER, username="mia")
    digests_send()
    text, page = _parts(mail.outbox[0])
    assert "max-width:600px" in page
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert '<link rel="stylesheet"' not in page
    # Every link is absolute, to this site; the unsubscribe link opens E-mail settings.
    links = re.findall(r'href="([^"]+)"', page)
    assert links
    assert all(link.startswith(f"{SITE}/") for link in links)
    assert f"{SITE}/settings/email/" in links
    assert f"Unsubscribe or change your e-mail settings: {SITE}/settings/email/" in text
    assert f"{SITE}/changes/?period=last_week" in text


# --- The E-mail settings page ------------------------------------------------------------------


def test_the_settings_page_turns_the_digest_off_and_on(manager_client: Client) -> None:
    url = reverse("email_settings")
    page = manager_client.get(url).content.decode()
    assert (
        'name="weekly_digest" id="id_weekly_digest" aria-describedby="digest-help" checked' in page
    )
    assert 'name="csrfmiddlewaretoken"' in page

    response = manager_client.post(url, {})
    assert response.status_code == 302
    assert response["Location"] == url
    user = manager_client.user  # type: ignore[attr-defined]
    assert EmailPreferences.objects.get(user=user).weekly_digest is False
    page = manager_client.get(url).content.decode()
    assert "You will no longer get the weekly digest." in page
    assert " checked" not in page.split('id="id_weekly_digest"', 1)[1].split(">", 1)[0]

    manager_client.post(url, {"weekly_digest": "on"})
    assert EmailPreferences.objects.get(user=user).weekly_digest is True


def test_a_rep_is_off_until_they_opt_in(rep_client: Client) -> None:
    page = rep_client.get(reverse("email_settings")).content.decode()
    assert "Off unless you turn it on." in page
    assert "for your own deals" in page
    assert 'aria-describedby="digest-help">' in page  # unchecked


def test_the_header_links_to_email_settings(manager_client: Client) -> None:
    page = manager_client.get(reverse("changes")).content.decode()
    assert f'href="{reverse("email_settings")}"' in page


def test_the_settings_page_needs_a_login_and_a_csrf_token(client: Client) -> None:
    url = reverse("email_settings")
    assert client.get(url).status_code == 302
    user = UserFactory.create(role=Role.VIEWER)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(url, {"weekly_digest": "on"}).status_code == 403
    assert not EmailPreferences.objects.exists()
    assert AnonymousUser().is_authenticated is False


@time_machine.travel(MONDAY, tick=False)
def test_a_digest_reads_in_the_same_queries_however_many_deals() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    deals = _org()
    manager = UserFactory.create(role=Role.MANAGER, username="mia")
    weekly_digest(manager)  # the role is read once, then kept
    with CaptureQueriesContext(connection) as few:
        weekly_digest(manager)
    for index in range(6):
        more = deal(sgd=f"{index + 1}000.00", health=HealthStatus.DANGER, health_reasons=[SLIPPED])
        _event(more, ChangeKind.NEW, start_of_day(LAST_MONDAY) + timedelta(hours=index), "1.00")
    _event(deals["pipe"], ChangeKind.REOPENED, start_of_day(LAST_MONDAY), "15000.33")
    with CaptureQueriesContext(connection) as many:
        digest = weekly_digest(manager)
    assert len(many) == len(few)
    assert len(digest.danger.deals) == 3
    assert digest.slipped.count == 8


def test_an_admin_changes_a_logins_digest_in_the_admin(admin_client_: Client) -> None:
    viewer = UserFactory.create(role=Role.VIEWER, username="vic")
    add = reverse("admin:opportunities_emailpreferences_add")
    response = admin_client_.post(add, {"user": viewer.pk, "weekly_digest": ""})
    assert response.status_code == 302
    assert EmailPreferences.objects.get(user=viewer).weekly_digest is False
    listing = admin_client_.get(reverse("admin:opportunities_emailpreferences_changelist"))
    assert listing.status_code == 200
    assert "vic" in listing.content.decode()
    sent = admin_client_.get(reverse("admin:opportunities_sentdigest_changelist"))
    assert sent.status_code == 200
