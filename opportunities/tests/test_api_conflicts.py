"""GET /api/v1/conflicts/ and resolving one: the deal named, the scope kept, Admins decide."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from opportunities.models import Conflict, Opportunity
from opportunities.roles import Role
from opportunities.tests.factories import CrmUserFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db


def _conflict(deal: Opportunity, **fields: Any) -> Conflict:
    values = {
        "field": "closing_date",
        "base_value": "2027-03-01",
        "local_value": "2027-04-15",
        "zoho_value": "2027-05-31",
        "strategy": "manual",
        **fields,
    }
    return Conflict.objects.create(opportunity=deal, **values)


def _client(role: Role, **fields: Any) -> Client:
    client = Client()
    client.force_login(UserFactory.create(role=role, **fields))
    return client


def test_conflicts_name_their_deal_and_a_rep_sees_only_its_own() -> None:
    own = OpportunityFactory.create(owner=CrmUserFactory.create(email="rep@example.com"))
    other = OpportunityFactory.create()
    mine, _ = _conflict(own), _conflict(other)
    _conflict(own, field="probability", status="resolved", resolution="took_zoho")

    rep = _client(Role.REP, email="rep@example.com")
    listed = rep.get("/api/v1/conflicts/?status=open").json()["results"]
    assert [(row["id"], row["deal_name"], row["zoho_id"]) for row in listed] == [
        (mine.pk, own.name, own.zoho_id)
    ]
    assert listed[0]["field_label"] == "Closing date"
    assert rep.get("/api/v1/conflicts/").json()["count"] == 2
    manager = _client(Role.MANAGER)
    assert manager.get("/api/v1/conflicts/").json()["count"] == 3
    bad = manager.get("/api/v1/conflicts/?status=maybe")
    assert bad.status_code == 400
    assert bad.json()["error"]["details"] == {"status": "Use open or resolved."}


def test_an_admin_enters_a_value_and_a_bad_one_is_a_clear_400() -> None:
    deal = OpportunityFactory.create()
    conflict = _conflict(deal)
    admin = _client(Role.ADMIN)
    url = f"/api/v1/conflicts/{conflict.pk}/resolve/"

    refused = admin.post(url, {"resolution": "entered", "value": "2027-02-30"}, "application/json")
    assert refused.status_code == 400
    assert "closing_date" in refused.json()["error"]["details"]
    missing = admin.post(url, {"resolution": "entered"}, "application/json")
    assert missing.json()["error"]["details"] == {"value": ["Enter the value to keep."]}

    done = admin.post(url, {"resolution": "entered", "value": "2027-06-30"}, "application/json")
    assert done.status_code == 200, done.content
    assert (done.json()["status"], done.json()["resolved_value"]) == ("resolved", "2027-06-30")
    deal.refresh_from_db()
    assert deal.pending_fields == ["closing_date"]
    again = admin.post(url, {"resolution": "took_zoho"}, "application/json")
    assert again.status_code == 400
