"""One client address for the lockout, the throttles and /metrics, direct or behind the proxy.

The documented deployment has one proxy that appends the address it received from to
X-Forwarded-For; a direct connection's header is the client's own word and is ignored.
"""

from __future__ import annotations

from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import Client, RequestFactory
from pytest_django import Settings
from rest_framework.throttling import SimpleRateThrottle

from opportunities.roles import Role
from opportunities.tests.factories import UserFactory
from pipeline_pulse.web.client_address import client_address

PROXY = "10.0.0.2"  # the reverse proxy, as the web server sees it
PASSWORD = "correct horse battery staple"


@pytest.fixture
def behind_proxy(settings: Settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1


def _address(forwarded: str | None, remote: str = PROXY) -> str:
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    return client_address(RequestFactory().get("/", headers=headers, REMOTE_ADDR=remote))


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        (None, PROXY),  # 0 entries: a request that did not pass the proxy (a probe on the host)
        ("203.0.113.7", "203.0.113.7"),  # 1 entry: the one the proxy appended
        ("1.1.1.1, 2.2.2.2,203.0.113.7", "203.0.113.7"),  # 3: two the client made up, then ours
        ("", PROXY),
        ("203.0.113.7, not-an-address", PROXY),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("2001:db8::1", "2001:db8::1"),
    ],
)
def test_behind_the_proxy_the_client_is_the_entry_it_appended(
    behind_proxy: None, forwarded: str | None, expected: str
) -> None:
    assert _address(forwarded) == expected


@pytest.mark.parametrize("forwarded", [None, "203.0.113.7", "1.1.1.1, 2.2.2.2, 203.0.113.7"])
def test_a_direct_connection_is_its_own_address_whatever_it_claims(forwarded: str | None) -> None:
    assert django_settings.TRUSTED_PROXY_COUNT == 0  # the default: no proxy is trusted
    assert _address(forwarded, remote="198.51.100.4") == "198.51.100.4"
    assert _address(forwarded, remote="unix-socket") == ""


# --- The login lockout: (username, address) -----------------------------------------------------


def _log_in(client: Client, password: str, forwarded: str | None = None) -> Any:
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    return client.post(
        "/accounts/login/",
        {"username": "mei", "password": password},
        headers=headers,
        REMOTE_ADDR=PROXY,
    )


@pytest.mark.django_db
def test_behind_the_proxy_an_attackers_failures_do_not_lock_the_victim_out(
    behind_proxy: None, client: Client
) -> None:
    UserFactory.create(username="mei", role=Role.MANAGER)
    limit = django_settings.AXES_FAILURE_LIMIT
    attacker = [_log_in(client, "wrong", "203.0.113.66").status_code for _ in range(limit)]
    # Extra entries in front of the proxy's are the attacker's own word: still the attacker.
    assert _log_in(client, PASSWORD, "198.51.100.7, 203.0.113.66").status_code == 429

    assert attacker[-1] == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.66"}
    assert _log_in(Client(), PASSWORD, "198.51.100.7").status_code == 302  # the victim


@pytest.mark.django_db
def test_a_direct_client_cannot_dodge_the_lock_by_claiming_other_addresses(
    client: Client,
) -> None:
    UserFactory.create(username="mei", role=Role.MANAGER)
    limit = django_settings.AXES_FAILURE_LIMIT
    answers = [_log_in(client, "wrong", f"203.0.113.{n}").status_code for n in range(limit)]
    assert answers[-1] == 429
    assert _log_in(client, PASSWORD, "198.51.100.7").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {PROXY}


# --- The API throttle -----------------------------------------------------------------------------


@pytest.fixture
def two_anonymous_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": None, "anon": "2/minute"})


def _call(client: Client, forwarded: str) -> int:
    response = client.get(
        "/api/v1/opportunities/", headers={"X-Forwarded-For": forwarded}, REMOTE_ADDR=PROXY
    )
    return int(response.status_code)


@pytest.mark.django_db
def test_behind_the_proxy_anonymous_callers_are_counted_per_client(
    behind_proxy: None, client: Client, two_anonymous_calls: None
) -> None:
    assert [_call(client, "203.0.113.66") for _ in range(3)] == [401, 401, 429]
    assert _call(client, "9.9.9.9, 203.0.113.66") == 429  # a made-up entry changes nothing
    assert _call(client, "198.51.100.7") == 401  # another client still gets its own count


@pytest.mark.django_db
def test_a_direct_caller_cannot_dodge_the_throttle_with_x_forwarded_for(
    client: Client, two_anonymous_calls: None
) -> None:
    assert [_call(client, f"203.0.113.{n}") for n in range(3)] == [401, 401, 429]


# --- /metrics' allowed networks -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("forwarded", "served"),
    [
        (None, True),  # Prometheus on the proxy's network, not through the proxy
        ("10.8.0.5", True),  # Prometheus inside, through the proxy
        ("203.0.113.66", False),  # anyone outside, through the proxy
        ("10.8.0.5, 203.0.113.66", False),  # ... claiming to be inside
    ],
)
def test_behind_the_proxy_metrics_checks_the_client_not_the_proxy(
    behind_proxy: None, client: Client, settings: Settings, forwarded: str | None, served: bool
) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    response = client.get("/metrics", headers=headers, REMOTE_ADDR=PROXY)
    assert response.status_code == (200 if served else 404)
