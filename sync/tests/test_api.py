"""Sync runs over the API: history for every role, a start for Managers and Admins, 409."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client

from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger
from sync.services import sync_run_start

pytestmark = pytest.mark.django_db
URL = "/api/v1/sync-runs/"


def test_every_role_reads_the_run_history(rep_client: Client) -> None:
    run = SyncRun.objects.create(
        kind=SyncKind.FULL, status=SyncStatus.FAILED, trigger=SyncTrigger.SCHEDULE, error="boom"
    )
    body = rep_client.get(URL).json()
    assert [(row["id"], row["error"]) for row in body["results"]] == [(run.pk, "boom")]
    assert rep_client.get(f"{URL}{run.pk}/").json()["kind"] == "full"


@pytest.mark.parametrize("client_fixture", ["manager_client", "admin_client_"])
def test_managers_and_admins_start_a_sync(
    client_fixture: str, request: pytest.FixtureRequest
) -> None:
    client: Client = request.getfixturevalue(client_fixture)
    with mock.patch("sync.triggers.zoho_sync_full.delay") as full:
        response = client.post(URL, {"kind": "full"}, content_type="application/json")

    assert response.status_code == 202, response.content
    assert response.json()["message"].startswith("A full sync was queued")
    full.assert_called_once_with(trigger=SyncTrigger.MANUAL, user_id=client.user.pk)  # type: ignore[attr-defined]


def test_the_default_is_an_incremental_sync(manager_client: Client) -> None:
    with mock.patch("sync.triggers.zoho_sync_incremental.delay") as incremental:
        response = manager_client.post(URL, {}, content_type="application/json")
    assert (response.status_code, response.json()["kind"]) == (202, "incremental")
    incremental.assert_called_once()


def test_a_sync_while_one_runs_is_a_409(manager_client: Client) -> None:
    run = sync_run_start(kind=SyncKind.FULL, trigger=SyncTrigger.SCHEDULE)
    with mock.patch("sync.triggers.zoho_sync_incremental.delay") as incremental:
        response = manager_client.post(URL, {}, content_type="application/json")

    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["details"]) == ("conflict", {"run": run.pk})
    assert "already running" in error["message"]
    incremental.assert_not_called()


@pytest.mark.parametrize("client_fixture", ["rep_client", "viewer_client"])
def test_reps_and_viewers_may_not_start_one(
    client_fixture: str, request: pytest.FixtureRequest
) -> None:
    client: Client = request.getfixturevalue(client_fixture)
    with mock.patch("sync.triggers.zoho_sync_incremental.delay") as incremental:
        response = client.post(URL, {}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Only Managers and Admins may start a sync."
    incremental.assert_not_called()


def test_an_unknown_kind_is_a_400(manager_client: Client) -> None:
    response = manager_client.post(URL, {"kind": "push"}, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["kind"]
