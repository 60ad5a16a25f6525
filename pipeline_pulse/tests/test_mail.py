"""E-mail: settings read from EMAIL_URL or the EMAIL_* variables, the one sending function,
and the demo's outbox."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType

import pytest
from django.core import mail
from pytest_django import Settings

from pipeline_pulse.mail import mail_send, render_mail
from pipeline_pulse.models import SentEmail

EMAIL_VARIABLES = (
    "EMAIL_URL",
    "EMAIL_TIMEOUT_SECONDS",
    "DEFAULT_FROM_EMAIL",
    "EMAIL_SUBJECT_PREFIX",
    "SITE_URL",
    "EMAIL_OUTBOX",
    "EMAIL_OUTBOX_KEEP",
)


@pytest.fixture
def email_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Read settings/email.py again under an environment the test sets."""
    import pipeline_pulse.settings.email as module

    for name in EMAIL_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def read(**environment: str) -> ModuleType:
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        return importlib.reload(module)

    yield read
    monkeypatch.undo()
    importlib.reload(module)


def test_email_url_names_backend_server_and_login(email_settings: object) -> None:
    read = email_settings
    module = read(EMAIL_URL="smtp://pulse%40example.com:p%40ss@smtp.example.com:587")  # type: ignore[operator]
    assert module.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    assert (module.EMAIL_HOST, module.EMAIL_PORT) == ("smtp.example.com", 587)
    assert (module.EMAIL_HOST_USER, module.EMAIL_HOST_PASSWORD) == ("pulse@example.com", "p@ss")
    module = read(EMAIL_URL="smtp+ssl://u:p@mail.example.com:465")  # type: ignore[operator]
    assert (module.EMAIL_USE_SSL, module.EMAIL_PORT) == (True, 465)
    module = read(EMAIL_URL="consolemail://")  # type: ignore[operator]
    assert module.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"


def test_the_defaults_and_the_outbox(email_settings: object) -> None:
    read = email_settings
    module = read()  # type: ignore[operator]
    assert module.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"
    assert module.DEFAULT_FROM_EMAIL == "Pipeline Pulse <pulse@localhost>"
    assert (module.EMAIL_SUBJECT_PREFIX, module.SITE_URL) == (
        "[Pipeline Pulse] ",
        "http://localhost:8000",
    )
    assert module.EMAIL_OUTBOX is False
    module = read(SITE_URL="https://pulse.example.com/", EMAIL_URL="smtp://smtp.example.com:25")  # type: ignore[operator]
    assert module.SITE_URL == "https://pulse.example.com"
    module = read(EMAIL_OUTBOX="true")  # type: ignore[operator]
    assert module.EMAIL_BACKEND == "pipeline_pulse.mail_outbox.OutboxBackend"
    assert module.EMAIL_OUTBOX_BACKEND == "django.core.mail.backends.smtp.EmailBackend"


def test_a_mail_has_its_text_and_html_parts_and_one_message_per_address(
    settings: Settings,
) -> None:
    settings.DEFAULT_FROM_EMAIL = "Pulse <pulse@example.com>"
    context = {"title": "Test", "finding": {"summary": "A & B <ok>", "lines": ["one"]}, "url": ""}
    subject, text, html = render_mail("alerts/email/admin_alert", context)
    assert subject == "Alert: Test"
    assert "A & B <ok>" in text
    assert "A &amp; B &lt;ok&gt;" in html
    sent = mail_send(
        to=["a@example.com", "b@example.com", "a@example.com", ""],
        template="alerts/email/admin_alert",
        context=context,
    )
    assert sent == 2
    assert [m.to for m in mail.outbox] == [["a@example.com"], ["b@example.com"]]
    assert mail.outbox[0].from_email == "Pulse <pulse@example.com>"


@pytest.mark.django_db
def test_the_outbox_keeps_copies_of_what_was_sent(settings: Settings) -> None:
    settings.EMAIL_OUTBOX = True
    settings.EMAIL_OUTBOX_KEEP = 2
    settings.EMAIL_OUTBOX_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EMAIL_BACKEND = "pipeline_pulse.mail_outbox.OutboxBackend"
    context = {"title": "Test", "finding": {"summary": "Sync failing", "lines": []}, "url": ""}
    for address in ("a@example.com", "b@example.com", "c@example.com"):
        mail_send(to=[address], template="alerts/email/admin_alert", context=context)
    assert len(mail.outbox) == 3  # the real backend got every one
    kept = list(SentEmail.objects.values_list("to", "subject"))
    assert kept == [
        ("c@example.com", "[Pipeline Pulse] Alert: Test"),
        ("b@example.com", "[Pipeline Pulse] Alert: Test"),
    ]
    copy = SentEmail.objects.first()
    assert copy is not None
    assert "Sync failing" in copy.text_body
    assert "Sync failing" in copy.html_body


@pytest.mark.django_db
def test_the_outbox_is_in_the_admin_only_when_on(admin_client_: object, settings: Settings) -> None:
    client = admin_client_
    settings.EMAIL_OUTBOX = False
    index = client.get("/admin/").content.decode()  # type: ignore[attr-defined]
    assert "Sent e-mails" not in index
    settings.EMAIL_OUTBOX = True
    assert "Sent e-mails" in client.get("/admin/").content.decode()  # type: ignore[attr-defined]
    SentEmail.objects.create(from_email="p@example.com", to="a@example.com", subject="Hello")
    response = client.get("/admin/pipeline_pulse/sentemail/")  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert "Hello" in response.content.decode()
