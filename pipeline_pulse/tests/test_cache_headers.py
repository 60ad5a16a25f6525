"""What caches may keep: every URL walked from the urlconf, as a logged-in Admin.

A URL that answers the whole page to a browser and a fragment to htmx says
`Vary: HX-Request`; a logged-in user's page and every API answer say `private, no-store`
unless they say how they may be cached themselves.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.utils.cache import get_max_age

from opportunities.roles import Role
from opportunities.tests.factories import UserFactory
from pipeline_pulse.tests.routes import paths_with_rows

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _cache_control(response: Any) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def _is_page(response: Any) -> bool:
    return response.status_code == 200 and b"<html" in response.content


def test_urls_that_answer_a_page_or_a_fragment_vary_on_hx_request() -> None:
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory.create(role=Role.ADMIN))
    varying = []
    for path, name in paths_with_rows():
        if name.startswith("admin:") or path.startswith("/api/"):
            continue
        page, fragment = client.get(path), client.get(path, headers=HTMX)
        if getattr(page, "streaming", False) or not _is_page(page) or _is_page(fragment):
            continue  # the same answer to both
        varying.append(path)
        for response in (page, fragment):
            assert "HX-Request" in response.get("Vary", ""), path
    assert {"/", "/board/", "/changes/", "/sync/"} <= set(varying)


def test_logged_in_pages_and_api_answers_are_never_stored() -> None:
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory.create(role=Role.ADMIN, is_staff=True, is_superuser=True))
    checked = 0
    with mock.patch("sync.triggers.zoho_sync_incremental.delay"):
        for path, _ in paths_with_rows():
            response = client.get(path)
            if response.status_code >= 400 and not path.startswith("/api/"):
                continue
            directives = _cache_control(response)
            # A response may say its own policy, if it is no looser than this one.
            assert (
                "private" in directives or "no-store" in directives or get_max_age(response) == 0
            ), (path, response.get("Cache-Control"))
            assert "public" not in directives, path
            checked += 1
    assert checked > 100


@pytest.mark.parametrize("path", ["/", "/board/", "/api/v1/opportunities/", "/api/schema/"])
def test_the_main_pages_and_the_api_say_private_no_store(admin_client_: Client, path: str) -> None:
    assert _cache_control(admin_client_.get(path)) == {"private", "no-store"}


def test_an_anonymous_api_answer_is_not_stored_either(client: Client) -> None:
    response = client.get("/api/v1/opportunities/")
    assert response.status_code == 401
    assert _cache_control(response) == {"private", "no-store"}


def test_the_login_page_keeps_its_own_policy(client: Client) -> None:
    assert "no-cache" in _cache_control(client.get("/accounts/login/"))
