"""API tokens: stored hashed, found by prefix, shown once in the admin, revoked not deleted."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opportunities.roles import Role
from opportunities.tests.factories import OpportunityFactory, UserFactory
from pipeline_pulse.api.tokens import api_token_create, api_token_find, api_token_revoke
from pipeline_pulse.models import ApiToken, TokenScope

pytestmark = pytest.mark.django_db
DEALS = "/api/v1/opportunities/"


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def test_only_a_hash_of_the_token_is_stored() -> None:
    user = UserFactory.create(role=Role.VIEWER)
    token, raw = api_token_create(
        user=user, name=" ERP import ", created_by=None, scope=TokenScope.READ
    )

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
    _, raw = api_token_create(
        user=UserFactory.create(), name="x", created_by=None, scope=TokenScope.READ
    )
    assert api_token_find(mangle(raw)) is None  # type: ignore[operator]


def test_a_token_acts_as_its_login_with_its_role(client: Client) -> None:
    rep = UserFactory.create(role=Role.REP, email="rep@example.com")
    own = OpportunityFactory.create(owner__email="REP@example.com")
    OpportunityFactory.create()
    _, raw = api_token_create(user=rep, name="CLI", created_by=None, scope=TokenScope.READ)

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
    token, raw = api_token_create(user=user, name="x", created_by=None, scope=TokenScope.READ)
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
        user=UserFactory.create(role=Role.VIEWER), name="x", created_by=None, scope=TokenScope.READ
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
        "/admin/pipeline_pulse/apitoken/add/",
        {"user": integration.pk, "name": "ERP import", "scope": "read"},
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
    token, _ = api_token_create(
        user=UserFactory.create(), name="x", created_by=None, scope=TokenScope.READ
    )

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


# --- Expiry and scope ------------------------------------------------------------------------


def test_an_expired_token_is_refused_as_a_revoked_one_is(client: Client) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token, raw = api_token_create(
            user=UserFactory.create(role=Role.VIEWER),
            name="x",
            created_by=None,
            scope=TokenScope.READ,
            expires_at=start + timedelta(days=30),
        )
        assert client.get(DEALS, headers=_bearer(raw)).status_code == 200
    with time_machine.travel(start + timedelta(days=30), tick=False):
        response = client.get(DEALS, headers=_bearer(raw))
        assert (token.is_active, api_token_find(raw)) == (False, None)
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "authentication_failed",
        "message": "The token is not valid, or it expired or was revoked.",
        "details": {},
    }


def test_a_token_cannot_be_made_already_expired() -> None:
    with pytest.raises(ValidationError) as refused:
        api_token_create(
            user=UserFactory.create(role=Role.VIEWER),
            name="x",
            created_by=None,
            scope=TokenScope.READ,
            expires_at=timezone.now() - timedelta(minutes=1),
        )
    assert "expires_at" in refused.value.message_dict
    assert not ApiToken.objects.exists()


def test_a_read_only_token_reads_but_never_writes_whatever_its_logins_role(
    client: Client,
) -> None:
    manager = UserFactory.create(role=Role.MANAGER)
    deal = OpportunityFactory.create()
    _, read = api_token_create(user=manager, name="BI", created_by=None, scope=TokenScope.READ)
    _, write = api_token_create(
        user=manager, name="ERP", created_by=None, scope=TokenScope.READ_WRITE
    )
    path, edit = f"{DEALS}{deal.pk}/", {"probability": 40}

    assert client.get(DEALS, headers=_bearer(read)).status_code == 200
    refused = client.patch(path, edit, "application/json", headers=_bearer(read))
    sync = client.post(
        "/api/v1/sync-runs/", {"kind": "incremental"}, "application/json", headers=_bearer(read)
    )
    allowed = client.patch(path, edit, "application/json", headers=_bearer(write))

    assert (refused.status_code, sync.status_code, allowed.status_code) == (403, 403, 200)
    assert refused.json()["error"]["message"].startswith("This token is read-only")
    deal.refresh_from_db()
    assert deal.probability == 40  # by the read-and-write token only
    # The login's session is not limited by its tokens.
    client.force_login(manager)
    assert client.patch(path, edit, "application/json").status_code == 200


def test_the_admin_sets_and_shows_scope_and_expiry(admin_client_: Client) -> None:
    integration = UserFactory.create(role=Role.MANAGER, username="erp-import")
    start = timezone.now()
    expiry = timezone.localtime(start + timedelta(days=90))
    response = admin_client_.post(
        "/admin/pipeline_pulse/apitoken/add/",
        {
            "user": integration.pk,
            "name": "ERP import",
            "scope": "read_write",
            "expires_at_0": expiry.strftime("%Y-%m-%d"),
            "expires_at_1": expiry.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 200, response.content
    token = ApiToken.objects.get()
    assert token.scope == TokenScope.READ_WRITE
    assert token.expires_at == expiry.replace(microsecond=0)

    past = timezone.localtime(start - timedelta(days=1))
    refused = admin_client_.post(
        "/admin/pipeline_pulse/apitoken/add/",
        {
            "user": integration.pk,
            "name": "Old",
            "scope": "read",
            "expires_at_0": past.strftime("%Y-%m-%d"),
            "expires_at_1": past.strftime("%H:%M:%S"),
        },
    )
    assert "Choose a moment in the future" in refused.content.decode()
    assert ApiToken.objects.count() == 1

    ApiToken.objects.update(expires_at=start - timedelta(minutes=1))  # as if 90 days later
    listing = admin_client_.get("/admin/pipeline_pulse/apitoken/").content.decode()
    assert "Read and write, as its login may" in listing
    assert '<td class="field-status">expired</td>' in listing
    add_form = admin_client_.get("/admin/pipeline_pulse/apitoken/add/").content.decode()
    assert '<option value="read" selected>Read only</option>' in add_form  # least rights first
