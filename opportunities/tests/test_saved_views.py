"""Saved views: save the board's filters under a name, reopen them from the menu, share by
link across roles (the viewer's own scope still applies), delete one's own; CSRF and names."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from opportunities.models import SavedView
from opportunities.roles import Role
from opportunities.tests.factories import CrmUserFactory, UserFactory
from opportunities.tests.screens import deal

pytestmark = pytest.mark.django_db


def _save(client: Client, name: str, query: str, *, shared: bool = False) -> Any:
    data = {"name": name, "query": query}
    if shared:
        data["shared"] = "on"
    return client.post(reverse("saved_view_save"), data)


def _messages(response: object) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


def test_save_normalises_and_the_menu_reopens_it(manager_client: Client) -> None:
    response = _save(
        manager_client, "  Danger   in SG ", "page=3&territory=Singapore&health=danger&q="
    )
    assert response.status_code == 302
    view = SavedView.objects.get()
    assert (view.name, view.query, view.shared) == (
        "Danger in SG",
        "health=danger&territory=Singapore",
        False,
    )
    assert response["Location"] == f"{reverse('board')}?health=danger&territory=Singapore"
    board = manager_client.get(reverse("board")).content.decode()
    link = reverse("saved_view_open", args=[view.slug])
    assert f'href="{link}"' in board
    assert "Danger in SG" in board
    opened = manager_client.get(link)
    assert opened.status_code == 302
    assert opened["Location"] == f"{reverse('board')}?health=danger&territory=Singapore"


@pytest.mark.parametrize(
    ("name", "query", "message"),
    [
        ("", "health=danger", "Give the view a name."),
        ("x" * 81, "health=danger", "at most 80 characters"),
        ("Mine", "since=2999-01-01", "Some filters could not be read"),
        ("Mine", "pushed=zero", "Some filters could not be read"),
        ("MINE", "health=danger", "You already have a view named “MINE”"),
    ],
)
def test_refused_names_and_filters_say_why(
    manager_client: Client, name: str, query: str, message: str
) -> None:
    SavedView.objects.create(owner=manager_client.user, name="Mine", query="")  # type: ignore[attr-defined]
    response = _save(manager_client, name, query)
    assert response.status_code == 302
    assert any(message in text for text in _messages(response))
    assert SavedView.objects.count() == 1


def test_the_same_name_is_fine_for_another_login(manager_client: Client) -> None:
    other = UserFactory.create(role=Role.MANAGER)
    SavedView.objects.create(owner=other, name="Mine", query="")
    _save(manager_client, "Mine", "health=danger")
    assert SavedView.objects.filter(name="Mine").count() == 2


def test_posts_need_a_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    user = UserFactory.create(role=Role.MANAGER)
    client.force_login(user)
    assert _save(client, "Mine", "health=danger").status_code == 403
    view = SavedView.objects.create(owner=user, name="Kept", query="")
    assert client.post(reverse("saved_view_delete", args=[view.pk])).status_code == 403
    assert client.get(reverse("saved_view_save")).status_code == 405


def test_delete_own_only(manager_client: Client) -> None:
    own = SavedView.objects.create(owner=manager_client.user, name="Own", query="")  # type: ignore[attr-defined]
    others = SavedView.objects.create(
        owner=UserFactory.create(role=Role.MANAGER), name="Theirs", query="", shared=True
    )
    assert manager_client.post(reverse("saved_view_delete", args=[others.pk])).status_code == 404
    assert manager_client.post(reverse("saved_view_share", args=[others.pk])).status_code == 404
    assert manager_client.post(reverse("saved_view_delete", args=[own.pk])).status_code == 302
    assert list(SavedView.objects.values_list("name", flat=True)) == ["Theirs"]


def test_a_view_not_shared_opens_for_its_owner_only(manager_client: Client) -> None:
    view = SavedView.objects.create(
        owner=UserFactory.create(role=Role.MANAGER), name="Private", query="health=danger"
    )
    assert manager_client.get(reverse("saved_view_open", args=[view.slug])).status_code == 404
    assert manager_client.get(reverse("saved_view_open", args=["no-such-view"])).status_code == 404


def test_share_and_unshare(manager_client: Client) -> None:
    view = SavedView.objects.create(owner=manager_client.user, name="Team", query="moved=true")  # type: ignore[attr-defined]
    response = manager_client.post(reverse("saved_view_share", args=[view.pk]), {"shared": "on"})
    view.refresh_from_db()
    assert view.shared
    assert any(reverse("saved_view_open", args=[view.slug]) in text for text in _messages(response))
    manager_client.post(reverse("saved_view_share", args=[view.pk]))
    view.refresh_from_db()
    assert not view.shared


def _client(role: Role, **fields: object) -> Client:
    client = Client()
    client.force_login(UserFactory.create(role=role, **fields))
    return client


def test_a_managers_shared_view_shows_a_rep_only_their_own_deals() -> None:
    manager, rep = _client(Role.MANAGER), _client(Role.REP, email="rep@example.com")
    mine = CrmUserFactory.create(email="rep@example.com")
    deal(name="Rep's danger", owner=mine, health="danger", territory="Singapore")
    deal(name="Someone else's danger", health="danger", territory="Singapore")
    deal(name="Rep's fine", owner=mine, territory="Singapore")
    _save(manager, "SG danger", "health=danger&territory=Singapore", shared=True)
    view = SavedView.objects.get()
    cache.clear()
    for_manager = manager.get(reverse("saved_view_open", args=[view.slug]), follow=True)
    assert {row.name for row in for_manager.context["page"].object_list} == {
        "Rep's danger",
        "Someone else's danger",
    }
    for_rep = rep.get(reverse("saved_view_open", args=[view.slug]), follow=True)
    assert for_rep.status_code == 200
    assert [row.name for row in for_rep.context["page"].object_list] == ["Rep's danger"]
    # The rep's menu lists the rep's own views, not the manager's.
    assert "SG danger" not in rep.get(reverse("board")).content.decode()


def test_admin_lists_saved_views(admin_client: Client) -> None:
    SavedView.objects.create(owner=UserFactory.create(), name="Quarter end", query="slipped=true")
    response = admin_client.get(reverse("admin:opportunities_savedview_changelist"))
    assert response.status_code == 200
    assert "Quarter end" in response.content.decode()
    assert admin_client.get(reverse("admin:opportunities_managerterritory_add")).status_code == 200
