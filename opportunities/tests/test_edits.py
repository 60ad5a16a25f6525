"""Local edits: validated as Zoho would, pending until pushed, phase and health follow at once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opportunities.models import ChangeEvent, Opportunity, PhaseTransition
from opportunities.roles import Role
from opportunities.services.edits import deal_edit_validate, opportunity_edit
from opportunities.tests.factories import CrmUserFactory, UserFactory
from opportunities.tests.syncing import sync_new

pytestmark = pytest.mark.django_db
SGT = ZoneInfo("Asia/Singapore")
TODAY = datetime(2026, 6, 1, 10, 0, tzinfo=SGT)


@pytest.fixture
def manager() -> Any:
    return UserFactory.create(role=Role.MANAGER)


@time_machine.travel(TODAY, tick=False)
def test_a_po_date_moves_the_deal_to_revenue_and_is_pending(manager: Any) -> None:
    deal = sync_new(stage="Needs Analysis", probability=40, closing_date=date(2026, 7, 1))
    zoho_values = dict(deal.zoho_values)

    edited = opportunity_edit(
        deal=deal,
        user=manager,
        changes={"po_received_on": "2026-05-30"},
    )

    assert edited.po_received_on == date(2026, 5, 30)
    assert edited.pending_fields == ["po_received_on"]
    assert edited.zoho_values == zoho_values  # the merge base is Zoho's, untouched
    assert edited.phase == 4
    transition = PhaseTransition.objects.filter(opportunity=deal).latest("id")
    assert (transition.from_phase, transition.to_phase, transition.cause) == (2, 4, "milestone")
    assert edited.health_computed_at == TODAY
    assert edited.updated_by == manager


@time_machine.travel(TODAY, tick=False)
def test_amount_and_currency_edits_convert_at_once(manager: Any) -> None:
    deal = sync_new(stage="Qualification", amount=Decimal("1000.00"))
    edited = opportunity_edit(
        deal=deal,
        user=manager,
        changes={"amount": "2,500.50", "closing_date": date(2026, 8, 1)},
    )
    assert edited.amount_sgd == Decimal("2500.50")
    assert sorted(edited.pending_fields) == ["amount", "closing_date"]
    kinds = set(ChangeEvent.objects.filter(opportunity=deal).values_list("kind", "cause"))
    assert {("amount_up", "local_edit"), ("closing_date_pushed", "local_edit")} <= kinds
    assert Opportunity.objects.get(pk=deal.pk).closing_date_push_count == 1


def test_values_are_checked_as_zoho_would() -> None:
    sync_new(stage="Qualification")
    with pytest.raises(ValidationError) as refused:
        deal_edit_validate(
            {
                "probability": "101",
                "amount": "-5",
                "closing_date": "",
                "kickoff_on": "2026-02-30",
                "currency": "dollars",
                "stage": "Maybe next year",
                "name": "Renamed",
            }
        )
    errors = refused.value.message_dict
    assert set(errors) == {
        "probability",
        "amount",
        "closing_date",
        "kickoff_on",
        "currency",
        "stage",
        "name",
    }
    assert "required" in errors["closing_date"][0]
    assert "kept in Zoho" in errors["name"][0]
    with pytest.raises(ValidationError, match="at most 2 decimals"):
        deal_edit_validate({"amount": "10.005"})


def test_stage_is_matched_case_insensitively_and_stored_as_zoho_spells_it() -> None:
    sync_new(stage="Qualification")
    assert deal_edit_validate({"stage": "negotiation/review", "currency": "usd"}) == {
        "stage": "Negotiation/Review",
        "currency": "USD",
    }


def test_who_may_edit_what() -> None:
    rep = UserFactory.create(role=Role.REP, email="rep@example.com")
    own = sync_new(stage="Qualification", owner=CrmUserFactory.create(email="rep@example.com"))
    other = sync_new(stage="Qualification")
    opportunity_edit(deal=own, user=rep, changes={"probability": 30})
    with pytest.raises(PermissionDenied):
        opportunity_edit(deal=other, user=rep, changes={"probability": 30})
    viewer = UserFactory.create(role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        opportunity_edit(deal=own, user=viewer, changes={"probability": 50})
    assert Opportunity.objects.get(pk=other.pk).probability == 10


def test_an_edit_that_changes_nothing_writes_nothing(manager: Any) -> None:
    deal = sync_new(stage="Qualification", probability=10)
    with CaptureQueriesContext(connection) as queries:
        opportunity_edit(deal=deal, user=manager, changes={"probability": "10"})
    assert not [q for q in queries.captured_queries if q["sql"].startswith(("UPDATE", "INSERT"))]
    assert Opportunity.objects.get(pk=deal.pk).pending_fields == []


@time_machine.travel(TODAY, tick=False)
def test_pending_fields_accumulate_until_pushed(manager: Any) -> None:
    deal = sync_new(stage="Qualification", closing_date=TODAY.date() + timedelta(days=30))
    deal = opportunity_edit(deal=deal, user=manager, changes={"probability": 20})
    deal = opportunity_edit(deal=deal, user=manager, changes={"stage": "Needs Analysis"})
    assert deal.pending_fields == ["probability", "stage"]
    assert deal.phase == 2
