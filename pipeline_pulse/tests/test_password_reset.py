"""Password reset by e-mail: the whole flow, no enumeration, limits per address and client."""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from pytest_django import Settings

from opportunities.roles import Role
from opportunities.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FROZEN = "2027-03-01T09:00+08:00"


@pytest.fixture(autouse=True)
def _mailbox(settings: Settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _request(client: Client, email: str, remote_addr: str = "127.0.0.1") -> Any:
    return client.post("/accounts/password-reset/", {"email": email}, REMOTE_ADDR=remote_addr)


def test_the_full_reset_flow(client: Client) -> None:
    UserFactory.create(
        username="aisha", email="Aisha@Example.com", role=Role.REP, first_name="Aisha"
    )
    with time_machine.travel(FROZEN, tick=False):
        assert "Forgot password?" in client.get("/accounts/login/").content.decode()
        response = _request(client, "aisha@example.com")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/password-reset/sent/"
        assert "Check your inbox" in client.get(response["Location"]).content.decode()

        (message,) = mail.outbox
        assert message.to == ["Aisha@Example.com"]
        assert message.subject == "Reset your Pipeline Pulse password"
        text_link = re.search(r"http://testserver(/accounts/reset/\S+/)", str(message.body))
        assert text_link is not None
        assert isinstance(message, EmailMultiAlternatives)
        content, mimetype = message.alternatives[0]
        assert mimetype == "text/html"
        html = str(content)
        assert text_link.group(1) in html
        assert "<img" not in html  # readable with images off, nothing fetched from elsewhere

        # The link redirects to a token-less URL (Django keeps the token in the session).
        confirm = client.get(text_link.group(1), follow=True)
        assert "Choose a new password" in confirm.content.decode()
        form_url = confirm.redirect_chain[-1][0]
        weak = client.post(form_url, {"new_password1": "12345678", "new_password2": "12345678"})
        assert weak.status_code == 200
        assert "aria-invalid" in weak.content.decode()
        done = client.post(
            form_url,
            {"new_password1": "mangosteen-harbour-42", "new_password2": "mangosteen-harbour-42"},
        )
        assert done["Location"] == "/accounts/reset/done/"

        logged_in = client.post(
            "/accounts/login/", {"username": "aisha", "password": "mangosteen-harbour-42"}
        )
        assert logged_in.status_code == 302
        client.logout()
        # The link works once.
        used = client.get(text_link.group(1), follow=True).content.decode()
        assert "This link no longer works" in used


def test_an_unknown_address_gets_the_same_answer_and_no_email(client: Client) -> None:
    UserFactory.create(username="aisha", email="aisha@example.com", role=Role.REP)

    known = _request(client, "aisha@example.com")
    unknown = _request(client, "nobody@example.com")

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1
    # A Zoho-only login (no password) gets no reset e-mail either, and the same answer.
    zoho_only = UserFactory.create(username="zed", email="zed@example.com", role=Role.REP)
    zoho_only.set_unusable_password()
    zoho_only.save()
    assert _request(client, "zed@example.com")["Location"] == known["Location"]
    assert len(mail.outbox) == 1


def test_requests_per_address_are_limited_whether_or_not_it_has_a_login(
    client: Client, settings: Settings
) -> None:
    settings.PASSWORD_RESET_PER_EMAIL_PER_HOUR = 2
    UserFactory.create(username="aisha", email="aisha@example.com", role=Role.REP)
    for email in ("aisha@example.com", "nobody@example.com"):
        assert _request(client, email).status_code == 302
        assert _request(client, email.upper()).status_code == 302
        refused = _request(client, email)
        assert refused.status_code == 429
        assert int(refused["Retry-After"]) > 0
        assert "Too many reset requests" in refused.content.decode()
    assert len(mail.outbox) == 2


def test_requests_per_client_are_limited_across_addresses(
    client: Client, settings: Settings
) -> None:
    settings.PASSWORD_RESET_PER_CLIENT_PER_HOUR = 3
    for number in range(3):
        assert _request(client, f"person{number}@example.com").status_code == 302
    assert _request(client, "person9@example.com").status_code == 429
    # Another client address still may.
    assert _request(client, "person9@example.com", remote_addr="10.1.2.3").status_code == 302


def test_the_limit_lifts_after_an_hour(client: Client, settings: Settings) -> None:
    settings.PASSWORD_RESET_PER_EMAIL_PER_HOUR = 1
    with time_machine.travel(FROZEN, tick=False) as clock:
        assert _request(client, "a@example.com").status_code == 302
        assert _request(client, "a@example.com").status_code == 429
        clock.shift(3601)
        assert _request(client, "a@example.com").status_code == 302


def test_a_malformed_address_is_a_form_error(client: Client) -> None:
    response = _request(client, "not-an-address")
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert not mail.outbox
    assert User.objects.count() == 0
