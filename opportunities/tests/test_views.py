"""The deal list: login required, role-filtered, and a fixed number of queries."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from opportunities.tests.factories import CrmUserFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_renders_and_logs_in(client: Client) -> None:
    from opportunities.roles import Role
    from opportunities.tests.factories import UserFactory

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


def test_manager_sees_all_deals_with_amounts(manager_client: Client) -> None:
    OpportunityFactory.create(name="Jurong fibre rollout", currency="USD")
    OpportunityFactory.create(name="Makati data centre", currency="PHP", amount_sgd=None)
    content = manager_client.get(reverse("home")).content.decode()
    assert "Jurong fibre rollout" in content
    assert "Makati data centre" in content
    assert "not converted" in content


def test_rep_sees_only_own_deals(rep_client: Client) -> None:
    OpportunityFactory.create(name="Mine", owner=CrmUserFactory.create(email="rep@example.com"))
    OpportunityFactory.create(name="Someone else's")
    content = rep_client.get(reverse("home")).content.decode()
    assert "Mine" in content
    assert "Someone else" not in content


def test_htmx_request_gets_only_the_table(manager_client: Client) -> None:
    OpportunityFactory.create(name="Fragment deal")
    response = manager_client.get(reverse("home"), headers={"HX-Request": "true"})
    content = response.content.decode()
    assert "Fragment deal" in content
    assert "<html" not in content


def test_query_count_does_not_grow_with_deals(manager_client: Client) -> None:
    OpportunityFactory.create_batch(3)
    manager_client.get(reverse("home"))  # warm the session and the role cache
    with CaptureQueriesContext(connection) as few:
        manager_client.get(reverse("home"))
    OpportunityFactory.create_batch(30)
    with CaptureQueriesContext(connection) as many:
        manager_client.get(reverse("home"))
    assert len(many) == len(few)
