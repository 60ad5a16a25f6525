"""Managers limited to their territories: every surface obeys the one access policy.

A Manager with territories sees only deals in them on the board, the deal page (404
otherwise), exports, the API and the dashboard's figures; one without sees every deal. The
pages' shared cache never hands one scope's page to another.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from opportunities.access import deals_visible_to, sees_every_deal, territories_of
from opportunities.models import ManagerTerritory, Opportunity
from opportunities.roles import Role
from opportunities.tests.factories import UserFactory
from opportunities.tests.screens import deal

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals() -> dict[str, Opportunity]:
    return {
        "sg": deal(name="Singapore deal", territory="Singapore", sgd="1000.00"),
        "my": deal(name="Malaysia deal", territory="Malaysia", sgd="2000.00"),
        "id": deal(name="Indonesia deal", territory="Indonesia", sgd="4000.00"),
    }


def _manager(client: Client, *territories: str) -> Client:
    user = UserFactory.create(role=Role.MANAGER)
    for territory in territories:
        ManagerTerritory.objects.create(user=user, territory=territory)
    client.force_login(user)
    client.user = user  # type: ignore[attr-defined]
    return client


def _board(client: Client, query: str = "") -> set[str]:
    response = client.get(reverse("board") + query)
    assert response.status_code == 200
    return {row.name for row in response.context["page"].object_list}


def test_policy(deals: dict[str, Opportunity]) -> None:
    limited = UserFactory.create(role=Role.MANAGER)
    ManagerTerritory.objects.create(user=limited, territory="Singapore")
    ManagerTerritory.objects.create(user=limited, territory="Malaysia")
    assert territories_of(limited) == ("Malaysia", "Singapore")
    assert set(deals_visible_to(limited).values_list("name", flat=True)) == {
        "Singapore deal",
        "Malaysia deal",
    }
    assert not sees_every_deal(limited)
    everyone = UserFactory.create(role=Role.MANAGER)
    assert deals_visible_to(everyone).count() == 3
    assert sees_every_deal(everyone)
    # Territories are a Manager's limit only: a Viewer given rows still sees every deal.
    viewer = UserFactory.create(role=Role.VIEWER)
    ManagerTerritory.objects.create(user=viewer, territory="Singapore")
    assert deals_visible_to(viewer).count() == 3


def test_board_deal_page_and_edit_permission(client: Client, deals: dict[str, Opportunity]) -> None:
    manager = _manager(client, "Singapore")
    assert _board(manager) == {"Singapore deal"}
    assert _board(manager, "?territory=Malaysia") == set()  # a filter never widens the scope
    assert manager.get(reverse("deal", args=[deals["sg"].pk])).status_code == 200
    assert manager.get(reverse("deal", args=[deals["my"].pk])).status_code == 404


def test_the_cached_board_is_never_shared_across_scopes(
    client: Client, deals: dict[str, Opportunity]
) -> None:
    everyone = Client()
    everyone.force_login(UserFactory.create(role=Role.MANAGER))
    assert _board(everyone) == {"Singapore deal", "Malaysia deal", "Indonesia deal"}
    limited = _manager(client, "Indonesia")
    assert _board(limited) == {"Indonesia deal"}  # same URL, straight after: not the cached page


def test_export(client: Client, deals: dict[str, Opportunity]) -> None:
    manager = _manager(client, "Singapore", "Malaysia")
    response = manager.get(reverse("board_export_csv") + "?bom=0")
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert {row["name"] for row in csv.DictReader(io.StringIO(body))} == {
        "Singapore deal",
        "Malaysia deal",
    }


def test_api_list_and_detail(client: Client, deals: dict[str, Opportunity]) -> None:
    manager = _manager(client, "Malaysia")
    listed = manager.get(reverse("api:opportunity-list")).json()
    assert [item["name"] for item in listed["results"]] == ["Malaysia deal"]
    assert manager.get(reverse("api:opportunity-detail", args=[deals["my"].pk])).status_code == 200
    assert manager.get(reverse("api:opportunity-detail", args=[deals["sg"].pk])).status_code == 404
    summary = manager.get(reverse("api:pipeline-summary")).json()
    assert Decimal(summary["open_pipeline_sgd"]) == Decimal("2000.00")


def test_dashboard_figures(client: Client, deals: dict[str, Opportunity]) -> None:
    cache.clear()
    manager = _manager(client, "Singapore", "Indonesia")
    response = manager.get(reverse("home"))
    assert response.status_code == 200
    assert response.context["summary"].open_pipeline_sgd == Decimal("5000.00")
    # The organisation-wide trend is for logins that see every deal.
    assert response.context["trend"] is None
