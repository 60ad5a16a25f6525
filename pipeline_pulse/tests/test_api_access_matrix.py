"""Role x endpoint x method: what each login gets from every operation of the API.

One table, read row by row: no login is 401; a login without a role 403; a Rep sees its own
deals and 404 for others'; a Viewer reads only; Managers also edit deals and start syncs;
Admins also change rate overrides and stage mappings. Every API route must appear here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve

from currency.services import rate_override_set
from opportunities.api.permissions import RolePolicy
from opportunities.models import Conflict
from opportunities.roles import Role
from opportunities.tests.factories import (
    CrmUserFactory,
    OpportunityFactory,
    StageMappingFactory,
    UserFactory,
)
from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger

pytestmark = pytest.mark.django_db
ROLES = ("anon", "none", "viewer", "rep", "manager", "admin")


@dataclass
class World:
    """What the operations act on: a deal of the Rep, one of someone else, and the rest."""

    own_deal: int
    other_deal: int
    mapping: int
    run: int
    override: int
    conflict: int


def _read(rep: int = 200) -> dict[str, int]:
    return {"anon": 401, "none": 403, "viewer": 200, "rep": rep, "manager": 200, "admin": 200}


def _write(*, admin: int, manager: int = 403, rep: int = 403) -> dict[str, int]:
    return {"anon": 401, "none": 403, "viewer": 403, "rep": rep, "manager": manager, "admin": admin}


@dataclass
class Operation:
    method: str
    path: Callable[[World], str]
    expected: dict[str, int]
    body: dict[str, Any] | None = None


OPERATIONS = {
    "list deals": Operation("get", lambda w: "/api/v1/opportunities/", _read()),
    "read own deal": Operation("get", lambda w: f"/api/v1/opportunities/{w.own_deal}/", _read()),
    "read another's deal": Operation(
        "get", lambda w: f"/api/v1/opportunities/{w.other_deal}/", _read(rep=404)
    ),
    "edit own deal": Operation(
        "patch",
        lambda w: f"/api/v1/opportunities/{w.own_deal}/",
        _write(admin=200, manager=200, rep=200),
        {"probability": 20},
    ),
    "edit another's deal": Operation(
        "patch",
        lambda w: f"/api/v1/opportunities/{w.other_deal}/",
        _write(admin=200, manager=200, rep=404),
        {"probability": 20},
    ),
    "delete a deal": Operation(
        "delete",
        lambda w: f"/api/v1/opportunities/{w.other_deal}/",
        {"anon": 401, "none": 403, "viewer": 405, "rep": 405, "manager": 405, "admin": 405},
    ),
    "pipeline summary": Operation("get", lambda w: "/api/v1/pipeline/summary/", _read()),
    "health summary": Operation("get", lambda w: "/api/v1/pipeline/health/", _read()),
    "forecast": Operation("get", lambda w: "/api/v1/pipeline/forecast/", _read()),
    "waterfall": Operation("get", lambda w: "/api/v1/pipeline/waterfall/", _read()),
    "change events": Operation("get", lambda w: "/api/v1/change-events/", _read()),
    "list stage mappings": Operation("get", lambda w: "/api/v1/stage-mappings/", _read()),
    "read a stage mapping": Operation(
        "get", lambda w: f"/api/v1/stage-mappings/{w.mapping}/", _read()
    ),
    "add a stage mapping": Operation(
        "post", lambda w: "/api/v1/stage-mappings/", _write(admin=201), {"stage": "New", "phase": 2}
    ),
    "replace a stage mapping": Operation(
        "put",
        lambda w: f"/api/v1/stage-mappings/{w.mapping}/",
        _write(admin=200),
        {"stage": "Renamed", "phase": 3},
    ),
    "change a stage mapping": Operation(
        "patch", lambda w: f"/api/v1/stage-mappings/{w.mapping}/", _write(admin=200), {"phase": 1}
    ),
    "remove a stage mapping": Operation(
        "delete", lambda w: f"/api/v1/stage-mappings/{w.mapping}/", _write(admin=200)
    ),
    "list sync runs": Operation("get", lambda w: "/api/v1/sync-runs/", _read()),
    "read a sync run": Operation("get", lambda w: f"/api/v1/sync-runs/{w.run}/", _read()),
    "start a sync": Operation(
        "post", lambda w: "/api/v1/sync-runs/", _write(admin=202, manager=202), {}
    ),
    "rates in effect": Operation("get", lambda w: "/api/v1/exchange-rates/", _read()),
    "list rate overrides": Operation("get", lambda w: "/api/v1/rate-overrides/", _read()),
    "read a rate override": Operation(
        "get", lambda w: f"/api/v1/rate-overrides/{w.override}/", _read()
    ),
    "override a rate": Operation(
        "post",
        lambda w: "/api/v1/rate-overrides/",
        _write(admin=201),
        {"currency": "EUR", "units_per_usd": "0.9", "reason": "Budget"},
    ),
    "end a rate override": Operation(
        "post",
        lambda w: f"/api/v1/rate-overrides/{w.override}/remove/",
        _write(admin=200),
        {"reason": "Done"},
    ),
    "list conflicts": Operation("get", lambda w: "/api/v1/conflicts/", _read()),
    "read a conflict": Operation("get", lambda w: f"/api/v1/conflicts/{w.conflict}/", _read()),
    "resolve a conflict": Operation(
        "post",
        lambda w: f"/api/v1/conflicts/{w.conflict}/resolve/",
        _write(admin=200),
        {"resolution": "took_zoho"},
    ),
    "OpenAPI schema": Operation(
        "get",
        lambda w: "/api/schema/",
        {"anon": 401, "none": 200, "viewer": 200, "rep": 200, "manager": 200, "admin": 200},
    ),
}


def _client_as(role: str) -> tuple[Client, Any]:
    client = Client()
    if role == "anon":
        return client, None
    user = UserFactory.create(role=None if role == "none" else Role(role.capitalize()))
    client.force_login(user)
    return client, user


def _world(rep_email: str) -> World:
    author = UserFactory.create(role=Role.ADMIN)
    own_deal = OpportunityFactory.create(owner=CrmUserFactory.create(email=rep_email))
    return World(
        own_deal=own_deal.pk,
        other_deal=OpportunityFactory.create().pk,
        mapping=StageMappingFactory.create(stage="Shortlisted").pk,
        run=SyncRun.objects.create(
            kind=SyncKind.FULL, status=SyncStatus.SUCCEEDED, trigger=SyncTrigger.SCHEDULE
        ).pk,
        override=rate_override_set(
            currency="INR", units_per_usd=Decimal("80"), reason="Budget", user=author
        ).pk,
        conflict=Conflict.objects.create(
            opportunity=own_deal,
            field="probability",
            base_value=10,
            local_value=20,
            zoho_value=30,
            strategy="manual",
        ).pk,
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=list(OPERATIONS))
def test_each_role_gets_what_the_policy_says(operation: Operation, role: str) -> None:
    client, user = _client_as(role)
    world = _world(rep_email=user.email if user else "nobody@example.com")
    body = {"data": operation.body, "content_type": "application/json"}
    with mock.patch("sync.triggers.zoho_sync_incremental.delay"):
        response = getattr(client, operation.method)(
            operation.path(world), **(body if operation.body is not None else {})
        )
    assert response.status_code == operation.expected[role], response.content


def _api_routes() -> dict[str, Any]:
    """Every route of the `api` namespace: its URL name → its view class."""
    resolver = get_resolver()
    found: dict[str, Any] = {}

    def walk(patterns: list[Any]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif pattern.name:
                found[pattern.name] = pattern.callback.cls

    api = next(
        p for p in resolver.url_patterns if isinstance(p, URLResolver) and p.namespace == "api"
    )
    walk(api.url_patterns)
    return found


def test_every_api_route_is_in_the_matrix_and_answers_to_the_policy() -> None:
    routes = _api_routes()
    world = World(own_deal=1, other_deal=2, mapping=3, run=4, override=5, conflict=6)
    in_matrix = {resolve(op.path(world)).url_name for op in OPERATIONS.values()}
    assert set(routes) - {"docs"} == in_matrix  # the docs page is a page: the URL walk
    for name, view in routes.items():
        if name not in {"schema", "docs"}:
            assert view.permission_classes == [RolePolicy], name
