"""Every screen: login required, each role's view of it, fragment or whole page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from opportunities.roles import Role
from opportunities.tests.factories import CrmUserFactory, UserFactory
from opportunities.tests.screens import deal

pytestmark = pytest.mark.django_db

PAGES = ["home", "board", "changes", "sync"]
FRAGMENT_MARKERS = {
    "home": 'id="dashboard"',
    "board": 'id="board-results"',
    "changes": 'id="changes"',
    "sync": 'id="sync-live"',
}


def _client_for(client: Client, role: Role | None, email: str = "someone@example.com") -> Client:
    client.force_login(UserFactory.create(role=role, email=email))
    return client


def test_anonymous_is_sent_to_login_from_every_page(client: Client) -> None:
    some = deal()
    for url in [*(reverse(name) for name in PAGES), reverse("deal", args=[some.pk])]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    assert client.get(reverse("freshness")).status_code == 302
    assert client.post(reverse("sync_start")).status_code == 302


def test_login_page_renders_and_logs_in(client: Client) -> None:
    UserFactory.create(username="mei", role=Role.MANAGER)
    assert client.get(reverse("login")).status_code == 200
    response = client.post(
        reverse("login"), {"username": "mei", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_wrong_password_shows_an_error(client: Client) -> None:
    response = client.post(reverse("login"), {"username": "nobody", "password": "x"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content


def test_logout_requires_post_and_ends_the_session(manager_client: Client) -> None:
    response = manager_client.post(reverse("logout"))
    assert response.status_code == 302
    assert manager_client.get(reverse("home")).status_code == 302


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.REP, Role.VIEWER, None])
@pytest.mark.parametrize("name", PAGES)
def test_every_role_gets_every_page_with_navigation_and_freshness(
    client: Client, role: Role | None, name: str
) -> None:
    deal(name="Visible to all but reps")
    response = _client_for(client, role).get(reverse(name))
    assert response.status_code == 200
    content = response.content.decode()
    assert '<nav class="main-nav" aria-label="Main">' in content
    assert 'id="freshness"' in content
    assert ("Admin</a>" in content) is (role is Role.ADMIN)
    # The API's documentation: for Admins, who issue the tokens integrations use.
    assert (f'href="{reverse("api:docs")}">API</a>' in content) is (role is Role.ADMIN)
    assert 'id="main"' in content


@pytest.mark.parametrize("name", PAGES)
def test_htmx_request_gets_only_the_fragment(manager_client: Client, name: str) -> None:
    deal()
    response = manager_client.get(reverse(name), headers={"HX-Request": "true"})
    assert response.status_code == 200
    content = response.content.decode()
    assert FRAGMENT_MARKERS[name] in content
    assert "<html" not in content
    assert 'class="main-nav"' not in content


@pytest.mark.parametrize("name", PAGES)
def test_boosted_htmx_navigation_gets_the_whole_page(manager_client: Client, name: str) -> None:
    response = manager_client.get(
        reverse(name), headers={"HX-Request": "true", "HX-Boosted": "true"}
    )
    assert "<html" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "own", "status"),
    [
        (Role.ADMIN, False, 200),
        (Role.MANAGER, False, 200),
        (Role.VIEWER, False, 200),
        (Role.REP, True, 200),
        (Role.REP, False, 404),
        (None, False, 404),
    ],
)
def test_deal_page_by_role(client: Client, role: Role | None, own: bool, status: int) -> None:
    owner = CrmUserFactory.create(email="rep@example.com" if own else "other@example.com")
    some = deal(owner=owner)
    response = _client_for(client, role, email="REP@example.com").get(
        reverse("deal", args=[some.pk])
    )
    assert response.status_code == status


def test_rep_sees_only_own_deals_on_board_and_dashboard(client: Client) -> None:
    mine = CrmUserFactory.create(email="rep@example.com")
    deal(name="Mine", owner=mine, sgd="1000.00")
    deal(name="Someone else's", sgd="99999.00")
    rep = _client_for(client, Role.REP, email="rep@example.com")
    board = rep.get(reverse("board")).content.decode()
    assert "Mine" in board
    assert "Someone else" not in board
    dashboard = rep.get(reverse("home"))
    assert dashboard.context["summary"].open_pipeline_sgd == 1000
    assert "The trend covers the whole organisation" in dashboard.content.decode()


def test_a_deleted_deal_is_gone_for_everyone(manager_client: Client) -> None:
    gone = deal(is_deleted=True)
    assert manager_client.get(reverse("deal", args=[gone.pk])).status_code == 404


def test_pages_refuse_other_methods(manager_client: Client) -> None:
    for name in ("home", "board", "changes", "sync", "freshness"):
        assert manager_client.post(reverse(name)).status_code == 405, name
    assert manager_client.get(reverse("sync_start")).status_code == 405
