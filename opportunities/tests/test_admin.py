"""Every admin page loads for the Admin role, and Zoho-owned rows are read-only there."""

from datetime import date
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from opportunities.models import MILESTONE_FIELDS, Conflict, Opportunity, StageMapping
from opportunities.roles import Role
from opportunities.services.edits import opportunity_edit
from opportunities.tests.factories import OpportunityFactory, PhaseTransitionFactory, UserFactory
from opportunities.tests.syncing import sync_new, sync_page

pytestmark = pytest.mark.django_db


def test_every_registered_model_has_a_working_changelist(admin_client_: Client) -> None:
    deal = OpportunityFactory.create(
        health_reasons=[
            {"code": "overdue", "severity": "danger", "message": "Closing date passed 3 days ago"}
        ]
    )
    PhaseTransitionFactory.create(opportunity=deal)
    for model in admin.site._registry:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = admin_client_.get(url, {"q": "deal"})
        assert response.status_code == 200, url


def test_deal_page_shows_computed_fields_read_only(admin_client_: Client) -> None:
    deal = OpportunityFactory.create(
        health_reasons=[
            {"code": "overdue", "severity": "danger", "message": "Closing date passed 3 days ago"}
        ]
    )
    response = admin_client_.get(reverse("admin:opportunities_opportunity_change", args=[deal.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Closing date passed 3 days ago" in content
    # Zoho's own data and what Pipeline Pulse computes are read-only; the O2R tracking fields
    # are edited through the local-edit service.
    for read_only in ("name", "amount_sgd", "health_status", "territory"):
        assert f'name="{read_only}"' not in content
    for editable in ("amount", "closing_date", "po_received_on", "stage"):
        assert f'name="{editable}"' in content


def test_stage_mapping_edit_records_who_changed_it(admin_client_: Client) -> None:
    mapping = StageMapping.objects.get(stage="Qualification")
    response = admin_client_.post(
        reverse("admin:opportunities_stagemapping_change", args=[mapping.pk]),
        {"stage": "Qualification", "phase": 2, "outcome": "open"},
    )
    assert response.status_code == 302
    mapping.refresh_from_db()
    assert mapping.phase == 2
    assert mapping.updated_by == admin_client_.user  # type: ignore[attr-defined]


def test_viewer_cannot_use_the_admin(viewer_client: Client) -> None:
    response = viewer_client.get(reverse("admin:index"))
    assert response.status_code == 302  # not staff: sent to the admin login


def test_deals_cannot_be_added_or_deleted_in_the_admin(admin_client_: Client) -> None:
    assert admin_client_.get(reverse("admin:opportunities_opportunity_add")).status_code == 403
    deal = OpportunityFactory.create()
    url = reverse("admin:opportunities_opportunity_delete", args=[deal.pk])
    assert admin_client_.post(url, {"post": "yes"}).status_code == 403
    assert Opportunity.objects.filter(pk=deal.pk).exists()


def _form(deal: Any, **changes: Any) -> dict[str, Any]:
    values = {
        "stage": deal.stage,
        "probability": deal.probability,
        "amount": deal.amount,
        "currency": deal.currency,
        "closing_date": deal.closing_date,
        **dict.fromkeys(MILESTONE_FIELDS, ""),
    }
    for inline in ("phase_transitions", "change_events"):  # the read-only history inlines
        values.update({f"{inline}-TOTAL_FORMS": 0, f"{inline}-INITIAL_FORMS": 0})
    return {name: "" if value is None else value for name, value in {**values, **changes}.items()}


def test_an_admin_edits_a_tracking_field_pending_for_zoho(admin_client_: Client) -> None:
    deal = sync_new(stage="Qualification", closing_date=date(2027, 1, 31))
    url = reverse("admin:opportunities_opportunity_change", args=[deal.pk])
    response = admin_client_.post(url, _form(deal, closing_date="2027-02-28"))
    assert response.status_code == 302, response.content.decode()[:2000]
    deal.refresh_from_db()
    assert (deal.closing_date, deal.pending_fields) == (date(2027, 2, 28), ["closing_date"])
    assert deal.history.filter(history_user=admin_client_.user).exists()  # type: ignore[attr-defined]


def test_a_value_zoho_would_refuse_is_a_form_error_and_nothing_is_saved(
    admin_client_: Client,
) -> None:
    deal = sync_new(stage="Qualification")
    url = reverse("admin:opportunities_opportunity_change", args=[deal.pk])
    response = admin_client_.post(url, _form(deal, stage="Someday maybe", probability=40))
    assert response.status_code == 200
    assert "is not a stage of this Zoho org" in response.content.decode()
    deal.refresh_from_db()
    assert (deal.stage, deal.probability, deal.pending_fields) == ("Qualification", 10, [])


def test_a_conflict_page_shows_the_three_values_and_an_admin_decides(
    admin_client_: Client, settings: Settings
) -> None:
    settings.ZOHO_CONFLICT_STRATEGY = "manual"
    deal = sync_new(stage="Qualification", probability=10)
    opportunity_edit(
        deal=deal, user=UserFactory.create(role=Role.MANAGER), changes={"probability": 35}
    )
    sync_page({deal: {"probability": 60}})
    conflict = Conflict.objects.get()
    url = reverse("admin:opportunities_conflict_change", args=[conflict.pk])
    page = admin_client_.get(url).content.decode()
    assert "Last seen from Zoho (base)" in page
    assert all(f"<td>{value}" in page for value in ("10", "35", "60"))

    refused = admin_client_.post(url, {"resolution": "entered", "value": "150"})
    assert refused.status_code == 200
    assert "whole number from 0 to 100" in refused.content.decode()
    done = admin_client_.post(url, {"resolution": "took_zoho"})
    assert done.status_code == 302
    conflict.refresh_from_db()
    assert (conflict.status, conflict.resolution) == ("resolved", "took_zoho")
    assert Opportunity.objects.get(pk=deal.pk).probability == 60
    assert "Resolved: <strong>Took Zoho" in admin_client_.get(url).content.decode()
