"""The simulated Zoho sign-in, spoken to with plain HTTP as a relying party would."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from simulator.clock import SimulatorClock
from simulator.server import SimulatorServer
from simulator.zoho import ZohoSimulator

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REDIRECT = "http://127.0.0.1:8000/accounts/zoho/callback/"


@pytest.fixture
def zoho() -> Iterator[tuple[ZohoSimulator, str]]:
    simulator = ZohoSimulator(deals=1, clock=SimulatorClock(START), token_mint_limit=1)
    with SimulatorServer([simulator]) as server:
        yield simulator, server.url


def _params(simulator: ZohoSimulator, **changes: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": simulator.oauth.client_id,
        "scope": "openid email profile",
        "redirect_uri": REDIRECT,
        "state": "st4te",
        **changes,
    }


def _code(url: str, simulator: ZohoSimulator, zuid: str) -> str:
    answer = requests.post(
        f"{url}/oauth/v2/auth",
        data={**_params(simulator), "zuid": zuid},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert query["state"] == ["st4te"]
    return query["code"][0]


def _exchange(url: str, simulator: ZohoSimulator, code: str, redirect: str = REDIRECT) -> dict:
    return requests.post(
        f"{url}/oauth/v2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": simulator.oauth.client_id,
            "client_secret": simulator.oauth.client_secret,
            "redirect_uri": redirect,
            "code": code,
        },
        timeout=5,
    ).json()


def test_the_page_lists_the_org_and_refuses_a_bad_request(zoho: tuple[ZohoSimulator, str]) -> None:
    simulator, url = zoho
    page = requests.get(f"{url}/oauth/v2/auth", params=_params(simulator), timeout=5)
    assert page.status_code == 200
    assert "aisha.rahman@pulse-demo.example.com" in page.text
    assert "(e-mail not verified)" in page.text
    for bad in (
        {"client_id": "1000.UNKNOWN"},
        {"response_type": "token"},
        {"redirect_uri": "javascript:alert(1)"},
        {"scope": "openid"},
    ):
        answer = requests.get(f"{url}/oauth/v2/auth", params=_params(simulator, **bad), timeout=5)
        assert answer.status_code == 400, bad


def test_a_code_becomes_a_token_whose_user_info_and_id_token_name_the_person(
    zoho: tuple[ZohoSimulator, str],
) -> None:
    simulator, url = zoho
    person = simulator.sign_in.person(email="aisha.rahman@pulse-demo.example.com")
    assert person is not None

    token = _exchange(url, simulator, _code(url, simulator, person.zuid))
    info = requests.get(
        f"{url}/oauth/v2/userinfo",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=5,
    )

    assert info.json() == {
        "sub": person.zuid,
        "email": person.email,
        "email_verified": True,
        "name": "Aisha Rahman",
        "given_name": "Aisha",
        "family_name": "Rahman",
    }
    payload = token["id_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert (claims["sub"], claims["aud"], claims["email_verified"]) == (
        person.zuid,
        simulator.oauth.client_id,
        True,
    )
    # Sign-in tokens do not use up the refresh token's minting allowance (1 here).
    assert simulator.tokens.minted == 0


def test_a_code_works_once_with_its_redirect_uri_within_two_minutes(
    zoho: tuple[ZohoSimulator, str],
) -> None:
    simulator, url = zoho
    zuid = simulator.sign_in.people[0].zuid

    code = _code(url, simulator, zuid)
    assert "access_token" in _exchange(url, simulator, code)
    assert _exchange(url, simulator, code) == {"error": "invalid_code"}

    code = _code(url, simulator, zuid)
    assert _exchange(url, simulator, code, redirect="http://elsewhere/cb") == {
        "error": "invalid_code"
    }

    code = _code(url, simulator, zuid)
    simulator.clock.advance(timedelta(minutes=2))
    assert _exchange(url, simulator, code) == {"error": "invalid_code"}


def test_user_info_needs_a_sign_in_token(zoho: tuple[ZohoSimulator, str]) -> None:
    _, url = zoho
    for header in ({}, {"Authorization": "Bearer 1000.nope"}):
        assert (
            requests.get(f"{url}/oauth/v2/userinfo", headers=header, timeout=5).status_code == 401
        )


def test_deny_goes_back_with_access_denied(zoho: tuple[ZohoSimulator, str]) -> None:
    simulator, url = zoho
    answer = requests.post(
        f"{url}/oauth/v2/auth",
        data={**_params(simulator), "deny": "1"},
        allow_redirects=False,
        timeout=5,
    )
    assert parse_qs(urlsplit(answer.headers["Location"]).query) == {
        "error": ["access_denied"],
        "state": ["st4te"],
    }
