"""Nobody gets in anonymously: every URL pattern of the project, walked from the urlconf.

Pages answer an anonymous visitor with a redirect to a login page, the API with a 401 or 403
error body. Only the allowlist below is open, and it is checked to be open, so it cannot
silently grow stale. A new route is covered the moment it is added.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve

from pipeline_pulse.tests.routes import all_routes

pytestmark = pytest.mark.django_db

# Open without a login: the log-in pages and the orchestrator's probes. /metrics, when the
# observability work adds it, has its own guard (a scrape token or network policy).
OPEN = {
    *("login", "admin:login", "liveness", "readiness", "favicon"),
    # Password reset by e-mail, and Sign in with Zoho (sync/signin_views.py).
    *("password_reset", "password_reset_done", "password_reset_confirm"),
    *("password_reset_complete", "zoho_signin", "zoho_signin_callback"),
}
OWN_GUARD = {"metrics"}
ROUTES = all_routes()


def test_the_walk_covers_every_part_of_the_project() -> None:
    paths = {path for path, _, _ in ROUTES}
    assert len(ROUTES) > 100
    assert {"/", "/admin/", "/api/v1/opportunities/", "/api/v1/opportunities/1/"} <= paths
    assert {"/api/v1/sync-runs/", "/api/schema/", "/api/docs/", "/healthz"} <= paths


@pytest.mark.parametrize(("path", "name", "callback"), ROUTES, ids=[r[0] for r in ROUTES])
def test_an_anonymous_visitor_is_refused(
    client: Client, path: str, name: str, callback: Any
) -> None:
    assert resolve(path).func is callback, f"{path} does not reach the pattern it was built from"
    if name in OPEN or name.split(":")[-1] in OWN_GUARD:
        pytest.skip("open by design; test_the_open_pages_are_open checks it")
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        if path.startswith("/api/") and path != "/api/docs/":
            assert response.status_code in (401, 403), (method, path, response.status_code)
            assert set(json.loads(response.content)["error"]) == {"code", "message", "details"}
        else:
            assert response.status_code == 302, (method, path, response.status_code)
            location = response["Location"]
            assert location.startswith(("/accounts/login/", "/admin/login/")), (path, location)


def test_the_open_pages_are_open(client: Client, settings: Any) -> None:
    settings.ZOHO_LOGIN_CLIENT_ID = settings.ZOHO_LOGIN_CLIENT_SECRET = ""
    named = {name for _, name, _ in ROUTES}
    assert named >= OPEN
    for path in ("/accounts/login/", "/admin/login/", "/healthz", "/readyz"):
        assert client.get(path).status_code == 200, path
    for path in ("/accounts/password-reset/", "/accounts/password-reset/sent/"):
        assert client.get(path).status_code == 200, path
    # Unconfigured, Sign in with Zoho is not there at all (sync/tests/test_zoho_signin.py
    # walks it configured); a reset link that does not check out says so.
    assert client.post("/accounts/zoho/login/").status_code == 404
    assert b"no longer works" in client.get("/accounts/reset/MQ/x-y/").content
    # Static files are served by WhiteNoise, outside the urlconf; /favicon.ico points at one.
    assert client.get("/static/css/pulse.css").status_code == 200
    assert client.get("/favicon.ico", follow=True).status_code == 200
