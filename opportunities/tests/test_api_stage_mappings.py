"""Stage mappings over the API: every role reads, Admins write, deals are placed again."""

from __future__ import annotations

import pytest
from django.test import Client

from opportunities.models import Outcome, StageMapping
from opportunities.tests.factories import StageMappingFactory
from opportunities.tests.syncing import sync_new

pytestmark = pytest.mark.django_db
URL = "/api/v1/stage-mappings/"


def test_every_role_reads_the_mappings(viewer_client: Client) -> None:
    body = viewer_client.get(URL).json()
    assert {"stage": "Closed Won", "phase": 4, "outcome": "won"}.items() <= next(
        row for row in body if row["stage"] == "Closed Won"
    ).items()


def test_an_admin_maps_a_stage_and_its_deals_move_at_once(admin_client_: Client) -> None:
    deal = sync_new(stage="Proposal submitted", probability=10)
    assert deal.phase == 1  # unmapped: placed by its probability

    response = admin_client_.post(
        URL, {"stage": "Proposal submitted", "phase": 3}, content_type="application/json"
    )

    assert response.status_code == 201, response.content
    assert response.json() | {"id": 0, "created_at": "", "updated_at": ""} == {
        "id": 0,
        "stage": "Proposal submitted",
        "phase": 3,
        "phase_label": "Proposal",
        "outcome": "open",
        "created_at": "",
        "updated_at": "",
        "deals_checked": 1,
        "deals_moved": 1,
    }
    deal.refresh_from_db()
    assert deal.phase == 3
    assert StageMapping.objects.get(stage="Proposal submitted").created_by == admin_client_.user  # type: ignore[attr-defined]


def test_a_duplicate_stage_or_a_missing_phase_is_a_400(admin_client_: Client) -> None:
    duplicate = admin_client_.post(
        URL, {"stage": "closed won", "phase": 4, "outcome": "won"}, content_type="application/json"
    )
    no_phase = admin_client_.post(URL, {"stage": "Parked"}, content_type="application/json")

    assert duplicate.status_code == 400
    assert duplicate.json()["error"]["code"] == "invalid"
    assert no_phase.status_code == 400
    assert "phase" in no_phase.json()["error"]["details"]


def test_a_lost_stage_may_keep_the_phase(admin_client_: Client) -> None:
    response = admin_client_.post(
        URL,
        {"stage": "Abandoned", "phase": None, "outcome": "lost"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["phase_label"] == "Phase kept (lost)"


def test_an_admin_changes_and_removes_a_mapping(admin_client_: Client) -> None:
    mapping = StageMappingFactory.create(stage="Shortlisted", phase=2)
    deal = sync_new(stage="Shortlisted", probability=10)
    assert deal.phase == 2

    changed = admin_client_.patch(
        f"{URL}{mapping.pk}/", {"outcome": "lost", "phase": None}, content_type="application/json"
    )
    assert changed.status_code == 200, changed.content
    deal.refresh_from_db()
    assert deal.outcome == Outcome.LOST

    removed = admin_client_.delete(f"{URL}{mapping.pk}/")
    assert removed.status_code == 200
    assert removed.json() == {"deals_checked": 1, "deals_moved": 1}
    assert not StageMapping.objects.filter(pk=mapping.pk).exists()


def test_a_partial_change_is_checked_against_the_saved_mapping(admin_client_: Client) -> None:
    mapping = StageMappingFactory.create(stage="Shortlisted", phase=2)
    response = admin_client_.patch(
        f"{URL}{mapping.pk}/", {"phase": None}, content_type="application/json"
    )
    assert response.status_code == 400  # an open stage needs a phase
    mapping.refresh_from_db()
    assert mapping.phase == 2


@pytest.mark.parametrize("client_fixture", ["manager_client", "rep_client", "viewer_client"])
def test_only_admins_change_mappings(client_fixture: str, request: pytest.FixtureRequest) -> None:
    client: Client = request.getfixturevalue(client_fixture)
    response = client.post(URL, {"stage": "X", "phase": 1}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "permission_denied",
        "message": "Only Admins may change this.",
        "details": {},
    }
    assert not StageMapping.objects.filter(stage="X").exists()
