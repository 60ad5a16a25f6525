"""Every admin page loads for the Admin role, and Zoho-owned rows are read-only there."""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from opportunities.models import Opportunity, StageMapping
from opportunities.tests.factories import OpportunityFactory, PhaseTransitionFactory

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
    assert 'name="amount"' not in content  # Zoho's data changes in Zoho or via local edits


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
