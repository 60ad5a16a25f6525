"""Error pages: the site's layout with its header and a way on; JSON under /api/.

404 (no such page, no such deal, a colleague's deal for a Rep), 403, 400 and a failed CSRF
check render inside base.html; the 500 page renders from an empty context (no request, no
login, no database) so that it still shows when those are what broke.
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.template import loader
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from opportunities.models import Opportunity
from opportunities.roles import Role
from opportunities.tests.factories import CrmUserFactory, UserFactory
from opportunities.tests.screens import deal
from pipeline_pulse.api import errors

pytestmark = pytest.mark.django_db


def _in_layout(html: str) -> None:
    assert '<header class="site-header">' in html
    assert 'class="error-page card"' in html
    assert 'aria-label="Ways on"' in html


def test_a_bad_deal_id_is_a_404_page_in_the_layout_with_ways_on(manager_client: Client) -> None:
    missing = (Opportunity.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    response = manager_client.get(reverse("deal", args=[missing]))
    assert response.status_code == 404
    html = response.content.decode()
    _in_layout(html)
    assert '<nav class="main-nav" aria-label="Main">' in html  # the header, logged in
    assert f'href="{reverse("board")}">Open the health board</a>' in html
    assert "That page or deal could not be found" in html


def test_a_rep_opening_a_colleagues_deal_gets_the_same_404_that_says_why(
    rep_client: Client,
) -> None:
    colleague = deal(name="Penang data centre", owner=CrmUserFactory.create(email="ana@x.com"))
    response = rep_client.get(reverse("deal", args=[colleague.pk]))
    assert response.status_code == 404
    html = response.content.decode()
    _in_layout(html)
    assert "Penang data centre" not in html  # nothing of the deal leaks
    assert "belongs to a colleague" in html


def test_a_forbidden_action_is_a_403_page_naming_the_role(viewer_client: Client) -> None:
    some = deal()
    response = viewer_client.post(reverse("deal", args=[some.pk]), {"probability": "20"})
    assert response.status_code == 403
    html = response.content.decode()
    _in_layout(html)
    assert "Your role, Viewer, does not allow it." in html


def test_a_failed_csrf_check_is_a_page_with_a_way_back(client: Client) -> None:
    user = UserFactory.create(role=Role.MANAGER)
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(user)
    some = deal()
    page = reverse("deal", args=[some.pk])
    response = checked.post(
        page, {"probability": "20"}, headers={"Referer": f"http://testserver{page}"}
    )
    assert response.status_code == 403
    html = response.content.decode()
    _in_layout(html)
    assert "That form was out of date, so nothing was saved" in html
    assert f'<a href="http://testserver{page}">Go back to the page</a>' in html


def test_a_csrf_failure_never_links_back_to_another_site(client: Client) -> None:
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(UserFactory.create(role=Role.MANAGER))
    some = deal()
    response = checked.post(
        reverse("deal", args=[some.pk]), {}, headers={"Referer": "https://evil.example/x"}
    )
    assert response.status_code == 403
    assert "evil.example" not in response.content.decode()
    assert "Open the page again" in response.content.decode()


def test_a_csrf_failure_under_api_is_json(rf: Any) -> None:
    response = errors.csrf_failure(rf.post("/api/v1/sync/"), reason="CSRF cookie not set.")
    assert response.status_code == 403
    body = json.loads(response.content)
    assert body["error"]["code"] == "csrf_failed"
    assert "cookie" not in body["error"]["message"]  # Django's reason is for the log only


def test_the_500_page_needs_no_request_login_or_database() -> None:
    with CaptureQueriesContext(connection) as queries:
        html = loader.get_template("500.html").render()
    assert len(queries) == 0
    assert '<header class="site-header">' in html
    assert 'href="/board/"' in html
    assert "Something went wrong on our side" in html
    assert "<script" not in html  # nothing the CSP would have to allow


def test_a_crash_on_a_page_shows_the_500_page(manager_client: Client) -> None:
    manager_client.raise_request_exception = False
    with mock.patch(
        "opportunities.views.dashboard.deals_visible_to", side_effect=RuntimeError("db down")
    ):
        response = manager_client.get("/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert "db down" not in html


def test_api_paths_keep_json_for_every_handler(rf: Any) -> None:
    api = rf.get("/api/v1/nothing/")
    api.user = AnonymousUser()
    for response, status, code in (
        (errors.page_not_found(api, Exception()), 404, "not_found"),
        (errors.permission_denied(api, PermissionDenied()), 403, "permission_denied"),
        (errors.bad_request(api, ValueError()), 400, "bad_request"),
        (errors.server_error(api), 500, "server_error"),
    ):
        assert response.status_code == status
        assert response["Content-Type"].startswith("application/json")
        assert json.loads(response.content)["error"]["code"] == code


def test_the_html_handlers_render_in_the_layout_for_a_visitor(client: Client) -> None:
    response = client.get("/no-such-page/")
    # Not logged in: the login wall answers first for pages; the 404 is for logged-in users.
    assert response.status_code in (302, 404)
    page = Client()
    page.force_login(UserFactory.create(role=Role.MANAGER))
    html = page.get("/no-such-page/").content.decode()
    _in_layout(html)
    assert "/no-such-page/" in html
