"""No odd input gets a 5xx: every page, fragment and endpoint, walked from the urlconf.

Each route is first asked plainly, through a query string that records which parameters the
view reads; then each of those parameters gets each odd value (a date that overflows, a time
zone that pushes a date out of range, non-ASCII digits, an integer beyond bigint, a NUL, a very
long string), one at a time, so an early 400 for one parameter never hides another's 500.
Every route that takes a body also gets a JSON document nested far deeper than any real one.
A new URL is covered the moment it is added.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.http import HttpRequest, HttpResponse, QueryDict
from django.test import Client
from pytest_django import Settings

from opportunities.roles import Role
from opportunities.tests.factories import OpportunityFactory, UserFactory
from pipeline_pulse.tests.routes import ROUTES_WITH_ROWS, all_routes, paths_with_rows

pytestmark = pytest.mark.django_db

ODD_VALUES = [
    "9999-12-31",
    "0001-01-01",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "²",  # a digit to str.isdigit(), not to int()
    "١٢",  # Arabic-Indic digits: int() reads them
    "99999999999999999999999",  # beyond bigint
    "-1",
    "1e309",
    "NaN",
    "\x00",
    "x" * 5000,
]
ADMIN_VALUES = ["9999-12-31", "²", "99999999999999999999999", "\x00"]
DEEP_JSON = "[" * 5000 + "]" * 5000
# The admin's list pages get their common parameters below.
ADMIN_PARAMETERS = ("q", "o", "p", "e", "all", "_popup", "_to_field")

_read: set[str] = set()


class _RecordingQueryDict(QueryDict):
    """A query string that notes every parameter name a view asks it for."""

    def get(self, key: str, default: Any = None) -> Any:
        _read.add(key)
        return super().get(key, default)

    def getlist(self, key: str, default: Any = None) -> Any:
        _read.add(key)
        return super().getlist(key, default)

    def __getitem__(self, key: str) -> Any:
        _read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        _read.add(str(key))
        return super().__contains__(key)


def record_parameters(get_response: Callable[[HttpRequest], HttpResponse]) -> Any:
    def middleware(request: HttpRequest) -> HttpResponse:
        request.GET = _RecordingQueryDict(request.META.get("QUERY_STRING", ""))
        return get_response(request)

    return middleware


@pytest.fixture
def recording(settings: Settings) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.record_parameters"]


def _no_server_error(response: Any, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}"


def test_every_route_with_path_parameters_gets_real_rows() -> None:
    """A new route with an id in its path must say which row it shows, or it is fuzzed as 404."""
    named = {name for path, name, _ in all_routes() if "/1/" in path and "/admin/" not in path}
    missing = named - ROUTES_WITH_ROWS
    assert not missing, f"add rows for {sorted(missing)} to routes.rows_for_routes()"


def test_no_odd_value_of_any_parameter_gets_a_5xx(recording: None) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory.create(role=Role.ADMIN, is_staff=True, is_superuser=True))
    fuzzed = 0
    with (
        mock.patch("sync.triggers.zoho_sync_incremental.delay"),
        mock.patch("sync.triggers.zoho_sync_full.delay"),
    ):
        for path, name in paths_with_rows():
            _read.clear()
            _no_server_error(client.get(path), path)
            parameters, values = set(_read), ODD_VALUES
            if name.startswith("admin:"):
                # Django's admin, tested by Django: its lists get the kinds of value once.
                is_list = name.endswith("_changelist")
                parameters = (parameters | set(ADMIN_PARAMETERS)) if is_list else set()
                values = ADMIN_VALUES
            for parameter in sorted(parameters):
                for value in values:
                    response = client.get(path, {parameter: value})
                    _no_server_error(response, f"GET {path}?{parameter}={value[:30]!r}")
                    fuzzed += 1
            if not name.startswith("admin:"):
                for method in ("post", "patch", "put"):
                    response = getattr(client, method)(
                        path, DEEP_JSON, content_type="application/json"
                    )
                    _no_server_error(response, f"{method.upper()} {path} with deep JSON")
    assert fuzzed > 1000  # the walk found the parameters the views read


# --- The review's cases, each a 400 that names what is wrong -------------------------------------


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/change-events/?end=9999-12-31", "end"),
        ("/api/v1/opportunities/?owner=99999999999999999999", "owner"),
        ("/api/v1/opportunities/?service_line=%00", "service_line"),
    ],
)
def test_the_api_names_the_odd_parameter(viewer_client: Client, path: str, parameter: str) -> None:
    response = viewer_client.get(path)
    assert response.status_code == 400
    assert parameter in response.json()["error"]["details"]


@pytest.mark.parametrize(
    "path",
    [
        "/sync/?since=0001-01-01T00:00:00%2B14:00",
        "/sync/?since=9999-12-31T23:59:59-14:00",
        "/sync/?since=yesterday",
        "/sync/?since=2026-11-25T10:00:00",  # no offset: which time zone?
        "/sync/freshness/?seen=%C2%B2",  # ²
        "/sync/freshness/?seen=-1",
    ],
)
def test_the_sync_pages_name_the_odd_parameter(viewer_client: Client, path: str) -> None:
    response = viewer_client.get(path)
    assert response.status_code == 400
    assert response.content.decode().startswith(path.split("?")[1].split("=")[0] + ": ")


def test_a_body_nested_5000_deep_is_a_parse_error(manager_client: Client) -> None:
    deal = OpportunityFactory.create()
    response = manager_client.patch(
        f"/api/v1/opportunities/{deal.pk}/", DEEP_JSON, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
