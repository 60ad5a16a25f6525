"""Stage mapping changes re-place deals; unmapped stages are counted and listed for admins."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from opportunities.models import CrmStage, Opportunity, StageMapping
from opportunities.services import opportunities_rederive, stage_mapping_delete, stage_mapping_save
from opportunities.stage_rules import unmapped_stages
from opportunities.tests.factories import OpportunityFactory, UserFactory
from opportunities.tests.syncing import sync_new

pytestmark = pytest.mark.django_db


def test_unmapped_stages_of_live_deals_with_their_counts() -> None:
    for stage, count in [("Shortlisted", 3), ("shortlisted ", 2), ("Verbal OK (90)", 1)]:
        OpportunityFactory.create_batch(count, stage=stage)
    OpportunityFactory.create(stage="Qualification")
    OpportunityFactory.create(stage="Parked", is_deleted=True)
    assert unmapped_stages() == [("Shortlisted", 3), ("shortlisted ", 2), ("Verbal OK (90)", 1)]
    StageMapping.objects.create(stage="SHORTLISTED", phase=2)
    assert unmapped_stages() == [("Verbal OK (90)", 1)]


def test_mapping_an_unmapped_stage_moves_its_deals_and_records_why() -> None:
    user = UserFactory.create()
    moved = sync_new(stage="Shortlisted", probability=30)  # falls back to phase 2
    other = sync_new(stage="Qualification")
    assert moved.phase == 2
    result = stage_mapping_save(
        mapping=StageMapping(stage="shortlisted", phase=3, outcome="open"), user=user
    )
    assert (result.checked, result.moved) == (1, 1)
    moved.refresh_from_db()
    assert moved.phase == 3
    transition = moved.phase_transitions.get(from_phase=2)
    assert (transition.to_phase, transition.cause) == (3, "stage_mapping")
    event = moved.change_events.get(kind="phase_forward")
    assert event.cause == "stage_mapping"
    assert moved.health_computed_at is not None
    assert moved.health_computed_at > other.health_computed_at  # type: ignore[operator]
    assert other.phase_transitions.count() == 1
    mapping = StageMapping.objects.get(stage="shortlisted")
    assert (mapping.created_by, mapping.updated_by) == (user, user)
    assert unmapped_stages() == []


def test_mapping_a_stage_lower_is_a_flagged_backwards_move() -> None:
    deal = sync_new(stage="Negotiation/Review", probability=70)
    mapping = StageMapping.objects.get(stage="Negotiation/Review")
    mapping.phase = 2
    stage_mapping_save(mapping=mapping, user=None)
    deal.refresh_from_db()
    assert deal.phase == 2
    assert deal.phase_transitions.get(from_phase=3).is_backwards is True
    assert deal.change_events.filter(kind="phase_backward").exists()


def test_milestones_still_raise_the_phase_after_a_mapping_change() -> None:
    with_po = sync_new(stage="Negotiation/Review", po_received_on=date(2026, 5, 1))
    mapping = StageMapping.objects.get(stage="Negotiation/Review")
    mapping.phase = 2
    result = stage_mapping_save(mapping=mapping, user=None)
    with_po.refresh_from_db()
    assert with_po.phase == 4
    assert result.moved == 0


def test_mapping_a_stage_as_lost_keeps_the_phase_and_makes_deals_neutral() -> None:
    deal = sync_new(stage="On hold", probability=60)  # unmapped: phase 3
    stage_mapping_save(mapping=StageMapping(stage="On hold", phase=None, outcome="lost"), user=None)
    deal.refresh_from_db()
    assert (deal.phase, deal.outcome, deal.health_status) == (3, "lost", "neutral")
    assert list(deal.change_events.values_list("kind", flat=True)) == ["lost", "new"]
    assert deal.phase_transitions.count() == 1


def test_a_deal_lost_by_a_mapping_change_counts_in_the_lost_sgd_total() -> None:
    deal = sync_new(stage="On hold", probability=60)
    stage_mapping_save(mapping=StageMapping(stage="On hold", phase=None, outcome="lost"), user=None)
    deal.refresh_from_db()
    lost = deal.change_events.get(kind="lost")
    assert deal.amount_sgd is not None
    assert lost.sgd_value == deal.amount_sgd


def test_renaming_a_mapped_stage_re_places_deals_of_the_old_name() -> None:
    custom = StageMapping.objects.create(stage="Demo done", phase=3)
    deal = sync_new(stage="Demo done", probability=10)
    assert deal.phase == 3
    custom.stage = "Demo booked"
    stage_mapping_save(mapping=custom, user=None, previous_stage="Demo done")
    deal.refresh_from_db()
    assert deal.phase == 1  # no mapping knows "Demo done" now: probability 10 → phase 1
    assert unmapped_stages() == [("Demo done", 1)]


def test_deleting_a_mapping_falls_back_on_probability() -> None:
    custom = StageMapping.objects.create(stage="Demo done", phase=3)
    deal = sync_new(stage="Demo done", probability=30)
    result = stage_mapping_delete(mapping=custom)
    deal.refresh_from_db()
    assert (result.moved, deal.phase) == (1, 2)


def test_rederive_everything_touches_only_deals_that_move() -> None:
    sync_new(stage="Qualification")
    misplaced = sync_new(stage="Needs Analysis")
    Opportunity.objects.filter(pk=misplaced.pk).update(phase=1)  # e.g. an older mapping
    result = opportunities_rederive()
    assert (result.checked, result.moved) == (2, 1)


# --- Admin -------------------------------------------------------------------------------------


def test_admin_mapping_edit_re_places_the_deals(admin_client_: Client) -> None:
    deal = sync_new(stage="Qualification", amount=Decimal("100.00"))
    mapping = StageMapping.objects.get(stage="Qualification")
    response = admin_client_.post(
        reverse("admin:opportunities_stagemapping_change", args=[mapping.pk]),
        {"stage": "Qualification", "phase": 2, "outcome": "open"},
        follow=True,
    )
    assert "1 of 1 deals moved" in response.content.decode()
    deal.refresh_from_db()
    assert deal.phase == 2
    assert deal.phase_transitions.get(from_phase=1).cause == "stage_mapping"


def test_admin_mapping_delete_re_places_the_deals(admin_client_: Client) -> None:
    custom = StageMapping.objects.create(stage="Demo done", phase=3)
    deal = sync_new(stage="Demo done", probability=10)
    response = admin_client_.post(
        reverse("admin:opportunities_stagemapping_delete", args=[custom.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.phase == 1


def test_admin_lists_unmapped_stages_with_a_link_to_map_each(admin_client_: Client) -> None:
    OpportunityFactory.create_batch(3, stage="Verbal OK (90)")
    changelist = admin_client_.get(reverse("admin:opportunities_stagemapping_changelist"))
    assert "Unmapped stages (1)" in changelist.content.decode()
    page = admin_client_.get(reverse("admin:opportunities_stagemapping_unmapped"))
    content = page.content.decode()
    assert "Verbal OK (90)" in content
    add_url = reverse("admin:opportunities_stagemapping_add") + "?stage=Verbal+OK+%2890%29"
    assert add_url in content
    form = admin_client_.get(add_url)
    assert 'value="Verbal OK (90)"' in form.content.decode()


def test_unmapped_stages_page_needs_the_admin(viewer_client: Client) -> None:
    response = viewer_client.get(reverse("admin:opportunities_stagemapping_unmapped"))
    assert response.status_code == 302


def test_the_unmapped_stages_page_shows_zohos_forecast_type(admin_client_: Client) -> None:
    OpportunityFactory.create(stage="Dropped")
    OpportunityFactory.create(stage="Shortlisted")
    CrmStage.objects.create(name="dropped", forecast_type="closed_lost", probability=0)
    page = admin_client_.get(reverse("admin:opportunities_stagemapping_unmapped"))
    rows = page.content.decode()
    assert "Closed lost" in rows
    assert "unknown" in rows  # Shortlisted: Zoho's list does not have it
    assert admin_client_.get(reverse("admin:opportunities_crmstage_changelist")).status_code == 200
