"""Admin pages of the health engine: thresholds with history, events, snapshots, deal page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from opportunities.models import ChangeEvent, HealthThresholds, Opportunity
from opportunities.roles import Role
from opportunities.services import health_thresholds_save
from opportunities.services.snapshots import pipeline_snapshot_take
from opportunities.tests.factories import OpportunityFactory, UserFactory
from opportunities.tests.syncing import sync_new, sync_page

pytestmark = pytest.mark.django_db


def thresholds_form(**changes: int) -> dict[str, object]:
    values: dict[str, object] = {
        name: getattr(HealthThresholds(), name) for name in HealthThresholds.threshold_fields()
    }
    return {**values, **changes, "note": "Tighter push rule"}


def test_add_form_starts_from_the_thresholds_in_force(admin_client_: Client) -> None:
    health_thresholds_save(thresholds=HealthThresholds(stale_after_days=35), user=None)
    form = admin_client_.get(reverse("admin:opportunities_healththresholds_add"))
    assert 'name="stale_after_days" value="35"' in form.content.decode()


def test_saving_thresholds_adds_a_row_and_rescores(admin_client_: Client) -> None:
    deal = OpportunityFactory.create(amount_sgd=Decimal("1.00"), closing_date_push_count=1)
    response = admin_client_.post(
        reverse("admin:opportunities_healththresholds_add"),
        thresholds_form(closing_date_pushes=1),
        follow=True,
    )
    assert "health recomputed for 1 deals: 0 danger, 1 warning" in response.content.decode()
    deal.refresh_from_db()
    assert deal.health_status == "warning"
    row = HealthThresholds.objects.get()
    assert row.created_by == admin_client_.user  # type: ignore[attr-defined]
    assert row.note == "Tighter push rule"


def test_invalid_thresholds_show_the_form_again(admin_client_: Client) -> None:
    response = admin_client_.post(
        reverse("admin:opportunities_healththresholds_add"),
        thresholds_form(low_probability_kicked_off=101),
    )
    assert response.status_code == 200
    assert not HealthThresholds.objects.exists()


def test_history_shows_who_changed_what_and_which_is_in_force(admin_client_: Client) -> None:
    for pushes in (3, 4):
        admin_client_.post(
            reverse("admin:opportunities_healththresholds_add"),
            thresholds_form(closing_date_pushes=pushes),
        )
    page = admin_client_.get(reverse("admin:opportunities_healththresholds_changelist"))
    content = page.content.decode()
    assert "closing date pushes: 2 → 3" in content
    assert "closing date pushes: 3 → 4" in content
    assert content.count("icon-yes.svg") == 1  # one row in force
    newest = HealthThresholds.objects.first()
    assert newest is not None
    view = admin_client_.get(
        reverse("admin:opportunities_healththresholds_change", args=[newest.pk])
    )
    assert view.status_code == 200
    assert 'name="closing_date_pushes"' not in view.content.decode()  # history is read-only
    delete = reverse("admin:opportunities_healththresholds_delete", args=[newest.pk])
    assert admin_client_.post(delete, {"post": "yes"}).status_code == 403


def test_change_events_and_snapshots_are_browsable_read_only(admin_client_: Client) -> None:
    deal = sync_new(stage="Qualification")
    sync_page({deal: {"stage": "Closed Won", "probability": 100}})
    pipeline_snapshot_take()
    events = admin_client_.get(
        reverse("admin:opportunities_changeevent_changelist"), {"kind__exact": "won"}
    )
    assert events.status_code == 200
    assert deal.name in events.content.decode()
    snapshots = admin_client_.get(
        reverse("admin:opportunities_pipelinesnapshot_changelist"), {"dimension__exact": "phase"}
    )
    assert "Revenue" in snapshots.content.decode()
    event = ChangeEvent.objects.get(kind="won")
    url = reverse("admin:opportunities_changeevent_delete", args=[event.pk])
    assert admin_client_.post(url, {"post": "yes"}).status_code == 403


def test_deal_page_shows_change_history_and_reasons(admin_client_: Client) -> None:
    deal = sync_new(stage="Qualification", probability=90)
    page = admin_client_.get(reverse("admin:opportunities_opportunity_change", args=[deal.pk]))
    content = page.content.decode()
    assert "Probability 90% but no PO yet" in content
    assert "New deal" in content


def test_recompute_health_admin_action(admin_client_: Client) -> None:
    deal = OpportunityFactory.create(amount_sgd=Decimal("1.00"))
    response = admin_client_.post(
        reverse("admin:opportunities_opportunity_changelist"),
        {"action": "recompute_health", "_selected_action": [deal.pk]},
        follow=True,
    )
    assert "Health recomputed for 1 deals" in response.content.decode()
    assert Opportunity.objects.get(pk=deal.pk).health_status == "success"


def test_recompute_action_is_for_those_who_set_thresholds(client: Client) -> None:
    staff_manager = UserFactory.create(role=Role.MANAGER, is_staff=True)
    client.force_login(staff_manager)
    page = client.get(reverse("admin:opportunities_opportunity_changelist"))
    assert page.status_code == 200
    assert "recompute_health" not in page.content.decode()
