"""One processor keeps secrets out of every log line, however they got into it."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings

from pipeline_pulse.observability.redaction import REDACTED, SecretRedactor
from pipeline_pulse.tests.test_logging import structured_handler

CLIENT_SECRET = "3f9a1c7e5b2d8f4a6c0e1b3d5f7a9c2e4b6d8f0a1c"
REFRESH_TOKEN = "1000.8f3c2a1b9e7d6c5b4a3f2e1d0c9b8a7f.6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b"
API_KEY = "d41d8cd98f00b204e9800998ecf8427e"
redactor = SecretRedactor([CLIENT_SECRET, REFRESH_TOKEN, API_KEY])


def test_a_configured_secret_inside_a_longer_message_is_removed() -> None:
    message = f"Token refresh failed for client_id=1000.ABC (sent {REFRESH_TOKEN}, got 400)"
    assert redactor.redact_text(message) == (
        f"Token refresh failed for client_id=1000.ABC (sent {REDACTED}, got 400)"
    )


def test_secrets_inside_nested_event_dicts_and_lists_are_removed() -> None:
    event = {
        "event": "zoho_call",
        "request": {
            "headers": {"Authorization": "Zoho-oauthtoken 1000.abcdef123456", "Accept": "json"},
            "params": [("page", "2"), ("note", f"secret is {CLIENT_SECRET}")],
            "form": {"client_secret": CLIENT_SECRET, "grant_type": "refresh_token"},
        },
        "attempt": 2,
    }
    assert redactor(None, "info", event) == {
        "event": "zoho_call",
        "request": {
            "headers": {"Authorization": REDACTED, "Accept": "json"},
            "params": [("page", "2"), ("note", f"secret is {REDACTED}")],
            "form": {"client_secret": REDACTED, "grant_type": "refresh_token"},
        },
        "attempt": 2,
    }
    # The caller's dict is left as it was.
    assert event["request"]["form"]["client_secret"] == CLIENT_SECRET  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET https://api.currencyfreaks.com/v2.0/rates/latest?apikey=abc123XYZ&symbols=SGD",
            f"GET https://api.currencyfreaks.com/v2.0/rates/latest?apikey={REDACTED}&symbols=SGD",
        ),
        (
            "headers={'Authorization': 'Zoho-oauthtoken 1000.a1b2c3d4e5'}",
            f"headers={{'Authorization': 'Zoho-oauthtoken {REDACTED}'}}",
        ),
        ("Authorization: Bearer eyJhbGciOi.J9", f"Authorization: Bearer {REDACTED}"),
        (
            '{"access_token": "1000.x9y8z7", "expires_in": 3600}',
            f'{{"access_token": "{REDACTED}", "expires_in": 3600}}',
        ),
        ("password=hunter2 user=alice", f"password={REDACTED} user=alice"),
        ("refresh_token: 1000.abc", f"refresh_token: {REDACTED}"),
        ("sent with Bearer abcdefgh12345", f"sent with Bearer {REDACTED}"),
        (
            "GET /accounts/zoho/callback/?state=s1&code=1000.ab12.cd34&location=us",
            f"GET /accounts/zoho/callback/?state=s1&code={REDACTED}&location=us",
        ),
        (
            "GET /accounts/reset/MQ/dnj500-5360a4195182cefd5379adafbf099281/",
            f"GET /accounts/reset/MQ/{REDACTED}/",
        ),
        ("GET /accounts/reset/MQ/set-password/", "GET /accounts/reset/MQ/set-password/"),
        # What must stay: Zoho's error codes, counts, ordinary words.
        ('{"code": "INVALID_TOKEN"}', '{"code": "INVALID_TOKEN"}'),
        ("minted 3 tokens in 2 s", "minted 3 tokens in 2 s"),
        ("password reset link sent", "password reset link sent"),
    ],
)
def test_credentials_written_into_text_are_removed(text: str, expected: str) -> None:
    assert redactor.redact_text(text) == expected


def test_redacting_twice_changes_nothing_more() -> None:
    once = redactor.redact_text(f"apikey={API_KEY} Authorization: Bearer {API_KEY}")
    assert redactor.redact_text(once) == once
    assert once == f"apikey={REDACTED} Authorization: Bearer {REDACTED}"


def test_short_or_empty_configured_values_are_not_searched_for() -> None:
    # An unset secret ("") or a test value like "abc" must not blank out ordinary text.
    assert SecretRedactor(["", "abc"]).redact_text("abc def") == "abc def"


LOGGING_SCRIPT = """
import django, logging, structlog
django.setup()
from django.conf import settings
logging.getLogger("sync.zoho").warning("Refresh with %s refused", settings.ZOHO_REFRESH_TOKEN)
structlog.get_logger("currency").info(
    "fx_call",
    url="/rates?symbols=SGD&apikey=" + settings.CURRENCYFREAKS_API_KEY,
    nested={"deep": [{"note": "uses " + settings.ZOHO_CLIENT_SECRET}]},
)
try:
    raise RuntimeError("bad secret " + settings.ZOHO_CLIENT_SECRET)
except RuntimeError:
    logging.getLogger("sync").exception("Token exchange failed")
"""


def test_the_configured_logging_redacts_the_configured_secrets() -> None:
    """A process started with the secrets in its environment, as production is."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pipeline_pulse.settings",
        "LOG_FORMAT": "json",
        "ZOHO_CLIENT_SECRET": CLIENT_SECRET,
        "ZOHO_REFRESH_TOKEN": REFRESH_TOKEN,
        "CURRENCYFREAKS_API_KEY": API_KEY,
    }
    stderr = subprocess.run(  # noqa: S603
        [sys.executable, "-c", LOGGING_SCRIPT],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stderr
    lines = [json.loads(line) for line in stderr.splitlines()]
    assert [line["event"] for line in lines] == [
        f"Refresh with {REDACTED} refused",
        "fx_call",
        "Token exchange failed",
    ]
    assert lines[1]["url"] == f"/rates?symbols=SGD&apikey={REDACTED}"
    assert lines[1]["nested"] == {"deep": [{"note": f"uses {REDACTED}"}]}
    assert f"RuntimeError: bad secret {REDACTED}" in lines[2]["exception"]
    for secret in (CLIENT_SECRET, REFRESH_TOKEN, API_KEY):
        assert secret not in stderr


def test_a_json_line_holds_no_secret_in_its_message_or_extras() -> None:
    stream = io.StringIO()
    handler = structured_handler(stream, secrets=[CLIENT_SECRET, REFRESH_TOKEN, API_KEY])
    logger = logging.getLogger("sync.zoho.auth")
    logger.addHandler(handler)
    try:
        logger.warning(
            "Zoho refused %s",
            f"client_secret={CLIENT_SECRET}&refresh_token={REFRESH_TOKEN}",
            extra={"headers": {"Authorization": f"Zoho-oauthtoken {API_KEY}"}},
        )
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["event"] == f"Zoho refused client_secret={REDACTED}&refresh_token={REDACTED}"
    assert line["headers"] == {"Authorization": REDACTED}
