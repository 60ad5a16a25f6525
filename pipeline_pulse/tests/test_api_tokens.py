"""API tokens: stored hashed, found by prefix, shown once in the admin, revoked not deleted."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opportunities.roles import Role
from opportunities.tests.factories import OpportunityFactory, UserFactory
from pipeline_pulse.api.tokens import api_token_create, api_token_find, api_token_revoke
from pipeline_pulse.models import ApiToken

pytestmark = pytest.mark.django_db
DEALS = "/api/v1/opportunities/"


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def test_only_a_hash_of_the_token_is_stored() -> None:
    user = UserFactory.create(role=Role.VIEWER)
    token, raw = api_token_create(user=user, name=" ERP import ", created_by=None)

    assert re.fullmatch(r"pp_[a-z0-9]{8}_[A-Za-z0-9_-]{43}", raw)
    assert raw.split("_")[1] == token.prefix
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {str(value) for value in ApiToken.objects.values().get().values()}
    assert token.name == "ERP import"
    assert api_token_find(raw) == token


@pytest.mark.parametrize(
    "mangle",
    [
        lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"),  # wrong secret
        lambda raw: "xx" + raw[2:],  # not our scheme
        lambda raw: raw.split("_", 2)[0] + "_zzzzzzzz_" + raw.split("_", 2)[2],  # unknown prefix
        lambda raw: raw[:10],  # truncated
    ],
)
def test_a_wrong_token_is_not_found(mangle: object) -> None:
    _, raw = api_token_create(user=UserFactory.create(), name="x", created_by=None)
    assert api_token_find(mangle(raw)) is None  # type: ignore[operator]


def test_a_token_acts_as_its_login_with_its_role(client: Client) -> None:
    rep = UserFactory.create(role=Role.REP, email="rep@example.com")
    own = OpportunityFactory.create(owner__email="REP@example.com")
    OpportunityFactory.create()
    _, raw = api_token_create(user=rep, name="CLI", created_by=None)

    response = client.get(DEALS, headers=_bearer(raw))

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [own.pk]
    assert "sessionid" not in response.cookies  # a token call starts no session


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "not_authenticated"),
        ("Bearer pp_nothere1_secret", "authentication_failed"),
        ("Bearer two words", "authentication_failed"),
        ("Bearer", "authentication_failed"),
    ],
)
def test_no_or_a_bad_token_is_a_401_with_the_scheme(
    client: Client, header: str | None, code: str
) -> None:
    response = client.get(DEALS, headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["error"]["code"] == code


def test_a_revoked_token_or_a_deactivated_login_is_refused(client: Client) -> None:
    user = UserFactory.create(role=Role.VIEWER)
    token, raw = api_token_create(user=user, name="x", created_by=None)
    assert client.get(DEALS, headers=_bearer(raw)).status_code == 200

    user.is_active = False
    user.save()
    assert client.get(DEALS, headers=_bearer(raw)).status_code == 401

    user.is_active = True
    user.save()
    revoked = api_token_revoke(token=token, user=None)
    assert revoked.revoked_at is not None
    assert api_token_revoke(token=token, user=None).revoked_at == revoked.revoked_at
    assert client.get(DEALS, headers=_bearer(raw)).status_code == 401


def test_last_use_is_written_at_most_once_a_minute(client: Client) -> None:
    token, raw = api_token_create(
        user=UserFactory.create(role=Role.VIEWER), name="x", created_by=None
    )
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get(DEALS, headers=_bearer(raw))
        with CaptureQueriesContext(connection) as queries:
            client.get(DEALS, headers=_bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at == start
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]

    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        client.get(DEALS, headers=_bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(seconds=61)


def test_the_admin_shows_a_new_token_once_and_lists_it_without_it(admin_client_: Client) -> None:
    integration = UserFactory.create(role=Role.VIEWER, username="erp-import")

    response = admin_client_.post(
        "/admin/pipeline_pulse/apitoken/add/", {"user": integration.pk, "name": "ERP import"}
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw = re.search(r'<code id="api-token">(pp_[^<]+)</code>', response.content.decode())
    assert raw is not None
    token = ApiToken.objects.get()
    assert (token.user, token.created_by) == (integration, admin_client_.user)  # type: ignore[attr-defined]
    assert api_token_find(raw.group(1)) == token

    listing = admin_client_.get("/admin/pipeline_pulse/apitoken/").content.decode()
    assert token.prefix in listing
    assert "erp-import" in listing
    assert raw.group(1) not in listing
    detail = admin_client_.get(f"/admin/pipeline_pulse/apitoken/{token.pk}/change/")
    assert raw.group(1) not in detail.content.decode()


def test_admins_revoke_tokens_and_never_delete_them(admin_client_: Client) -> None:
    token, _ = api_token_create(user=UserFactory.create(), name="x", created_by=None)

    response = admin_client_.post(
        "/admin/pipeline_pulse/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )

    assert "1 token(s) revoked" in response.content.decode()
    token.refresh_from_db()
    assert (token.revoked_at is not None, token.revoked_by) == (True, admin_client_.user)  # type: ignore[attr-defined]
    assert (
        admin_client_.get(f"/admin/pipeline_pulse/apitoken/{token.pk}/delete/").status_code == 403
    )


@pytest.mark.parametrize("role", [Role.MANAGER, Role.VIEWER])
def test_only_admins_manage_tokens(client: Client, role: Role) -> None:
    user = UserFactory.create(role=role, is_staff=True)
    client.force_login(user)
    assert client.get("/admin/pipeline_pulse/apitoken/add/").status_code == 403
