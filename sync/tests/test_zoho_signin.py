"""Sign in with Zoho through the simulated accounts server: redirect, consent, code, user info."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client
from pytest_django import Settings

from opportunities.models import SignUpDomain
from opportunities.roles import Role, role_of
from opportunities.tests.factories import UserFactory
from simulator.server import SimulatorServer
from simulator.zoho import ZohoSimulator
from simulator.zoho_signin import ZohoPerson

pytestmark = pytest.mark.django_db

AISHA = ZohoPerson("70001", "Aisha.Rahman@pulse-demo.example.com", "Aisha", "Rahman")


@pytest.fixture
def zoho(settings: Settings) -> Iterator[tuple[ZohoSimulator, SimulatorServer]]:
    simulator = ZohoSimulator(deals=1)
    simulator.sign_in.add_person(AISHA)
    with SimulatorServer([simulator]) as server:
        settings.ZOHO_ACCOUNTS_URL = server.url
        settings.ZOHO_LOGIN_CLIENT_ID = simulator.oauth.client_id
        settings.ZOHO_LOGIN_CLIENT_SECRET = simulator.oauth.client_secret
        yield simulator, server


def _consent(client: Client, *, zuid: str, deny: bool = False, next_url: str = "") -> str:
    """Click "Sign in with Zoho", choose the person on Zoho's page: where Zoho sends us back."""
    started = client.post("/accounts/zoho/login/", {"next": next_url})
    assert started.status_code == 302
    authorize = urlsplit(started["Location"])
    params = {name: values[0] for name, values in parse_qs(authorize.query).items()}
    assert authorize.path == "/oauth/v2/auth"
    assert params["scope"] == "openid email profile"
    assert params["redirect_uri"] == "http://testserver/accounts/zoho/callback/"
    page = requests.get(started["Location"], timeout=5)
    assert page.status_code == 200
    choice = {"deny": "1"} if deny else {"zuid": zuid}
    back = requests.post(
        f"{authorize.scheme}://{authorize.netloc}/oauth/v2/auth",
        data={**params, **choice},
        allow_redirects=False,
        timeout=5,
    )
    assert back.status_code == 302
    location = back.headers["Location"]
    assert location.startswith("http://testserver/accounts/zoho/callback/?")
    return location.removeprefix("http://testserver")


def _messages(client: Client) -> str:
    return client.get("/accounts/login/").content.decode()


def test_the_login_page_offers_zoho_only_when_configured(
    client: Client, settings: Settings
) -> None:
    settings.ZOHO_LOGIN_CLIENT_ID = settings.ZOHO_LOGIN_CLIENT_SECRET = ""
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Zoho" not in page
    assert "Forgot password?" in page
    assert client.post("/accounts/zoho/login/").status_code == 404

    settings.ZOHO_LOGIN_CLIENT_ID, settings.ZOHO_LOGIN_CLIENT_SECRET = "1000.ID", "secret"
    assert "Sign in with Zoho" in client.get("/accounts/login/").content.decode()


def test_a_zoho_user_signs_in_as_the_login_with_their_email(client: Client, zoho: object) -> None:
    rep = UserFactory.create(
        username="aisha", email="aisha.rahman@pulse-demo.example.com", role=Role.REP
    )

    callback = _consent(client, zuid=AISHA.zuid, next_url="/board/")
    response = client.get(callback)

    assert response.status_code == 302
    assert response["Location"] == "/board/"
    assert client.get("/").context["user"] == rep
    # The code worked once: the same answer replayed logs nobody in.
    client.logout()
    client.get(callback)
    assert "did not start here" in _messages(client)


def test_a_zoho_user_without_a_login_is_refused_unless_their_domain_is_allowed(
    client: Client, zoho: object
) -> None:
    client.get(_consent(client, zuid=AISHA.zuid))
    assert "No Pipeline Pulse login has the e-mail address" in _messages(client)
    assert not User.objects.exists()

    SignUpDomain.objects.create(domain="pulse-demo.example.com")
    response = client.get(_consent(client, zuid=AISHA.zuid))
    assert response.status_code == 302
    user = User.objects.get()
    assert (user.username, user.email) == ("aisha.rahman", "Aisha.Rahman@pulse-demo.example.com")
    assert role_of(user) is Role.REP
    assert client.get("/").status_code == 200


def test_an_unverified_zoho_address_is_refused_with_a_message(
    client: Client, zoho: tuple[ZohoSimulator, SimulatorServer]
) -> None:
    simulator, _ = zoho
    unverified = simulator.sign_in.person(email="new.starter@pulse-demo.example.com")
    assert unverified is not None
    assert not unverified.email_verified
    UserFactory.create(username="newbie", email=unverified.email, role=Role.REP)

    client.get(_consent(client, zuid=unverified.zuid))

    assert "Zoho has not verified the e-mail address" in _messages(client)
    assert "_auth_user_id" not in client.session


def test_a_wrong_state_a_denial_and_a_bad_code_log_nobody_in(client: Client, zoho: object) -> None:
    UserFactory.create(username="aisha", email=AISHA.email, role=Role.REP)

    callback = _consent(client, zuid=AISHA.zuid)
    tampered = callback.replace("state=", "state=x")
    client.get(tampered)
    assert "did not start here" in _messages(client)

    client.get(_consent(client, zuid="", deny=True))
    assert "Sign-in with Zoho was cancelled." in _messages(client)

    callback = _consent(client, zuid=AISHA.zuid)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    client.get(callback.replace(code, "1000.forged"))
    assert "Zoho did not accept the sign-in" in _messages(client)
    assert "_auth_user_id" not in client.session


def test_zoho_unreachable_is_a_message_not_an_error(
    client: Client, zoho: object, settings: Settings
) -> None:
    callback = _consent(client, zuid=AISHA.zuid)
    settings.ZOHO_ACCOUNTS_URL = "http://127.0.0.1:9"  # nothing listens there
    response = client.get(callback)
    assert response.status_code == 302
    assert "Zoho could not be reached" in _messages(client)


def test_a_login_locked_out_for_its_password_can_still_sign_in_with_zoho(
    client: Client, zoho: object, settings: Settings
) -> None:
    rep = UserFactory.create(username="aisha", email=AISHA.email, role=Role.REP)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "aisha", "password": "wrong"})
    assert (
        client.post("/accounts/login/", {"username": "aisha", "password": "wrong"}).status_code
        == 429
    )

    response = client.get(_consent(client, zuid=AISHA.zuid))

    assert response.status_code == 302
    assert client.get("/").context["user"] == rep
    # Zoho proved who they are: the failed password attempts are cleared.
    assert not AccessAttempt.objects.filter(username="aisha").exists()


def test_an_open_redirect_in_next_is_ignored(client: Client, zoho: object) -> None:
    UserFactory.create(username="aisha", email=AISHA.email, role=Role.REP)
    response = client.get(_consent(client, zuid=AISHA.zuid, next_url="https://evil.example/"))
    assert response["Location"] == "/"


def test_the_id_token_vouches_for_the_address_when_user_info_leaves_it_out(
    client: Client, zoho: tuple[ZohoSimulator, SimulatorServer]
) -> None:
    simulator, _ = zoho
    simulator.sign_in.userinfo_has_email_verified = False
    rep = UserFactory.create(username="aisha", email=AISHA.email, role=Role.REP)

    client.get(_consent(client, zuid=AISHA.zuid))

    assert client.get("/").context["user"] == rep


def test_an_id_token_issued_to_another_client_is_refused(
    client: Client, zoho: tuple[ZohoSimulator, SimulatorServer]
) -> None:
    simulator, _ = zoho
    simulator.sign_in.id_token_audience = "1000.SOMEONEELSE"
    UserFactory.create(username="aisha", email=AISHA.email, role=Role.REP)

    client.get(_consent(client, zuid=AISHA.zuid))

    assert "Zoho did not accept the sign-in" in _messages(client)
    assert "_auth_user_id" not in client.session
