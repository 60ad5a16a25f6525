"""Throttling, login lockout, CSP, CORS, and the production switches."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from opportunities.roles import Role
from opportunities.tests.factories import UserFactory
from pipeline_pulse.api.tokens import api_token_create

pytestmark = pytest.mark.django_db
DEALS = "/api/v1/opportunities/"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def low_rates(monkeypatch: pytest.MonkeyPatch) -> None:
    # DRF reads the rates when the throttle classes are defined: patch them, not the settings.
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"user": "3/minute", "anon": "2/minute"}
    )


def test_the_rates_come_from_the_environment_with_defaults() -> None:
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates == {"user": "1000/hour", "anon": "100/hour"}


def _throttled(response: Any) -> None:
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    error = json.loads(response.content)["error"]
    assert error["code"] == "throttled"
    assert error["details"]["retry_after_seconds"] == int(response["Retry-After"])


def test_a_login_over_its_rate_gets_429_with_retry_after(client: Client, low_rates: None) -> None:
    user = UserFactory.create(role=Role.VIEWER)
    _, raw = api_token_create(user=user, name="x", created_by=None)
    token = {"Authorization": f"Bearer {raw}"}

    assert [client.get(DEALS, headers=token).status_code for _ in range(3)] == [200, 200, 200]
    _throttled(client.get(DEALS, headers=token))
    # The session of the same login shares its count.
    client.force_login(user)
    _throttled(client.get(DEALS))
    # Another login is counted apart.
    other = Client()
    other.force_login(UserFactory.create(role=Role.VIEWER))
    assert other.get(DEALS).status_code == 200


def test_anonymous_and_bad_token_calls_are_throttled_too(client: Client, low_rates: None) -> None:
    bad = {"Authorization": "Bearer pp_aaaaaaaa_guess"}
    assert [client.get(DEALS).status_code, client.get(DEALS, headers=bad).status_code] == [401, 401]
    _throttled(client.get(DEALS, headers=bad))
    _throttled(client.get(DEALS))


# --- Login lockout -------------------------------------------------------------------------------


def _log_in(client: Client, password: str) -> Any:
    return client.post("/accounts/login/", {"username": "mei", "password": password})


def test_repeated_failures_lock_the_login_and_the_page_says_for_how_long(client: Client) -> None:
    UserFactory.create(username="mei", role=Role.MANAGER)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        failures = [
            _log_in(client, "wrong").status_code for _ in range(settings.AXES_FAILURE_LIMIT)
        ]
        locked = _log_in(client, PASSWORD)  # the right password, too late

    assert failures == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(settings.AXES_COOLOFF_MINUTES * 60)
    page = " ".join(locked.content.decode().split())  # the text as it reads, not as wrapped
    assert "this account is locked for 15 minutes" in page
    until = timezone.localtime(start + timedelta(minutes=15)).strftime("%H:%M")
    assert f"until {until}" in page
    assert 'value="mei"' in page  # the form stays filled in, password empty

    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert _log_in(client, PASSWORD).status_code == 302


def test_a_successful_log_in_clears_the_failures(client: Client) -> None:
    UserFactory.create(username="mei", role=Role.MANAGER)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _log_in(client, "wrong")
    assert _log_in(client, PASSWORD).status_code == 302
    client.logout()
    assert _log_in(client, "wrong").status_code == 200  # counting starts again


def test_a_wrong_password_page_says_nothing_of_a_lock(client: Client) -> None:
    UserFactory.create(username="mei", role=Role.MANAGER)
    page = _log_in(client, "wrong").content.decode()
    assert "locked" not in page
    assert "enter a correct username and password" in page


# --- Content-Security-Policy ---------------------------------------------------------------------


def _policy(response: Any) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def test_every_page_has_the_policy(client: Client) -> None:
    policy = _policy(client.get("/accounts/login/"))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"].startswith("'self'")
    assert policy["img-src"] == "'self' data:"
    assert policy["connect-src"].startswith("'self' ws://localhost:*")
    assert (policy["frame-ancestors"], policy["object-src"]) == ("'none'", "'none'")
    assert (policy["base-uri"], policy["form-action"]) == ("'self'", "'self'")
    assert "unsafe-inline" not in str(policy)
    assert "unsafe-eval" not in str(policy)


def test_an_inline_style_runs_only_with_this_requests_nonce(viewer_client: Client) -> None:
    first, second = viewer_client.get("/api/docs/"), viewer_client.get("/api/docs/")
    nonces = []
    for response in (first, second):
        policy = _policy(response)
        nonce = re.search(r"'nonce-([^']+)'", policy["style-src"])
        assert nonce is not None
        assert f"'nonce-{nonce.group(1)}'" in policy["script-src"]
        assert f'<style nonce="{nonce.group(1)}">' in response.content.decode()
        assert "<script>" not in response.content.decode()  # no inline script at all
        nonces.append(nonce.group(1))
    assert nonces[0] != nonces[1]


# --- CORS ----------------------------------------------------------------------------------------


def test_only_listed_origins_may_call_the_api_and_never_a_page(
    client: Client, settings: Any
) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://bi.example.com"]
    preflight = {
        "Origin": "https://bi.example.com",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    api = client.options(DEALS, headers=preflight)
    page = client.options("/accounts/login/", headers=preflight)
    stranger = client.options(DEALS, headers={**preflight, "Origin": "https://evil.example"})

    assert api["Access-Control-Allow-Origin"] == "https://bi.example.com"
    assert "authorization" in api["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in api
    assert "Access-Control-Allow-Origin" not in page
    assert "Access-Control-Allow-Origin" not in stranger


# --- Production switches -------------------------------------------------------------------------


def test_https_switches_on_secure_cookies_hsts_redirect_and_wss() -> None:
    code = (
        "from pipeline_pulse import settings as s; import json; print(json.dumps(["
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.CONTENT_SECURITY_POLICY['DIRECTIVES']['connect-src'], "
        "s.REST_FRAMEWORK['NUM_PROXIES'], s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']]))"
    )
    env = {
        "HTTPS": "true",
        "ALLOWED_HOSTS": "pulse.example.com,.corp.example",
        "TRUST_X_FORWARDED_PROTO": "true",
        "API_THROTTLE_USER": "50/minute",
        "API_THROTTLE_ANON": "5/minute",
        "PATH": "/usr/bin:/bin",
        "SECRET_KEY": "k" * 50,
        "DJANGO_SETTINGS_MODULE": "pipeline_pulse.settings",
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    secure_session, secure_csrf, redirect, hsts, connect, proxies, rates = json.loads(
        result.stdout.strip().splitlines()[-1]
    )
    assert (secure_session, secure_csrf, redirect, hsts) == (True, True, True, 31_536_000)
    assert connect == ["'self'", "wss://pulse.example.com:*", "wss://*.corp.example:*"]
    assert proxies == 1
    assert rates == {"user": "50/minute", "anon": "5/minute"}
