"""The deal page: every field, lifecycle, rate used, history, and the edit form."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from opportunities.deal_fields import CRM_FIELDS, EDITABLE_FIELDS
from opportunities.models import ChangeEvent, HealthStatus, Opportunity, Outcome, Phase
from opportunities.roles import Role
from opportunities.tests.factories import CrmUserFactory, PhaseTransitionFactory, UserFactory
from opportunities.tests.screens import deal

pytestmark = pytest.mark.django_db


def _form(opportunity: Opportunity, **changes: str) -> dict[str, str]:
    values = {}
    for name in EDITABLE_FIELDS:
        value = getattr(opportunity, name)
        values[name] = (
            ""
            if value is None
            else (value.isoformat() if hasattr(value, "isoformat") else str(value))
        )
    values.update(changes)
    return values


def test_every_crm_field_and_computed_facts_are_shown(manager_client: Client) -> None:
    opportunity = deal(
        territory="Singapore",
        service_line="Data & AI",
        lead_source="Partner",
        proposal_submitted_on=timezone.localdate() - timedelta(days=3),
    )
    response = manager_client.get(reverse("deal", args=[opportunity.pk]))
    content = response.content.decode()
    for field in CRM_FIELDS:
        assert f"<dt>{field.label}</dt>" in content, field.name
    for label in (
        "Phase",
        "Outcome",
        "Requires attention",
        "Strategic",
        "Closing date pushed out",
        "Waiting for Zoho",
    ):
        assert f"<dt>{label}</dt>" in content
    assert "Data &amp; AI" in content
    assert f"https://crm.zoho.com/crm/tab/Potentials/{opportunity.zoho_id}" in content


def test_zoho_link_follows_the_setting(manager_client: Client, settings: object) -> None:
    settings.ZOHO_WEB_URL = "https://crm.zoho.eu/"  # type: ignore[attr-defined]
    opportunity = deal()
    content = manager_client.get(reverse("deal", args=[opportunity.pk])).content.decode()
    assert f'href="https://crm.zoho.eu/crm/tab/Potentials/{opportunity.zoho_id}"' in content


def test_milestones_in_realisation_order_and_backward_moves_flagged(manager_client: Client) -> None:
    today = timezone.localdate()
    opportunity = deal(
        outcome=Outcome.WON,
        phase=4,
        closing=today - timedelta(days=5),
        po_received_on=today - timedelta(days=4),
        kickoff_on=today + timedelta(days=10),
    )
    PhaseTransitionFactory.create(opportunity=opportunity, from_phase=3, to_phase=2)
    response = manager_client.get(reverse("deal", args=[opportunity.pk]))
    steps = response.context["milestones"]
    assert [s.label for s in steps] == [
        "Proposal submitted",
        "Won",
        "PO received",
        "Kick-off",
        "Invoiced",
        "Payment received",
        "Revenue recognised",
    ]
    assert [s.state for s in steps][:4] == ["none", "reached", "reached", "planned"]
    assert "backwards move" in response.content.decode()


def test_the_rate_used_and_its_state(manager_client: Client) -> None:
    won = deal(
        outcome=Outcome.WON,
        currency="USD",
        amount=Decimal("100.00"),
        fx_rate=Decimal("1.35"),
        fx_rate_source="api",
        fx_rate_as_of=timezone.now() - timedelta(days=40),
    )
    fx = manager_client.get(reverse("deal", args=[won.pk])).context["fx"]
    assert (fx.state, fx.rate, fx.source) == ("locked", "1.35", "CurrencyFreaks API")
    stale = deal(
        currency="USD",
        amount=Decimal("100.00"),
        fx_rate=Decimal("1.35"),
        fx_rate_source="api",
        fx_rate_as_of=timezone.now() - timedelta(days=10),
    )
    assert manager_client.get(reverse("deal", args=[stale.pk])).context["fx"].state == "stale"
    missing = deal(sgd=None)
    response = manager_client.get(reverse("deal", args=[missing.pk]))
    assert response.context["fx"].state_label == "Not converted"
    assert "No exchange rate for XAF" in response.content.decode()


def test_history_and_pending_fields(manager_client: Client) -> None:
    opportunity = deal(pending_fields=["closing_date"])
    ChangeEvent.objects.create(
        opportunity=opportunity,
        kind="amount_up",
        old_value="USD 10.00",
        new_value="USD 2000.00",
        delta=Decimal(1990),
        sgd_value=Decimal("2686.50"),
    )
    content = manager_client.get(reverse("deal", args=[opportunity.pk])).content.decode()
    assert "1 change waiting to be sent to Zoho" in content
    assert "Amount up" in content
    assert "USD 2,000.00" in content


def _changes(opportunity: Opportunity, count: int) -> list[ChangeEvent]:
    start = timezone.now() - timedelta(days=count)
    return [
        ChangeEvent.objects.create(
            opportunity=opportunity,
            kind="closing_date_pushed",
            old_value=f"2027-01-{1 + n % 28:02d}",
            new_value=f"2027-02-{1 + n % 28:02d}",
            occurred_at=start + timedelta(days=n),
        )
        for n in range(count)
    ]


def test_the_deal_page_shows_its_newest_changes_and_links_to_every_change(
    manager_client: Client,
) -> None:
    opportunity = deal()
    events = _changes(opportunity, 21)

    response = manager_client.get(reverse("deal", args=[opportunity.pk]))

    shown = response.context["events"]
    assert [e.pk for e in shown] == [e.pk for e in reversed(events)][:20]
    assert reverse("deal_history", args=[opportunity.pk]) in response.content.decode()
    events[0].delete()  # twenty left: all of them on the page, no link
    response = manager_client.get(reverse("deal", args=[opportunity.pk]))
    assert len(response.context["events"]) == 20
    assert reverse("deal_history", args=[opportunity.pk]) not in response.content.decode()


def test_the_history_page_lists_every_change_a_page_at_a_time(manager_client: Client) -> None:
    opportunity = deal()
    events = _changes(opportunity, 120)
    url = reverse("deal_history", args=[opportunity.pk])

    first = manager_client.get(url)
    last = manager_client.get(url, {"page": "3"})

    assert [e.pk for e in first.context["page"]] == [e.pk for e in reversed(events)][:50]
    assert [e.pk for e in last.context["page"]] == [e.pk for e in reversed(events)][100:]
    assert "101\u2013120 of 120" in last.content.decode()
    assert "Older →" in first.content.decode()
    # Nonsense pages land on a real page rather than an error.
    assert manager_client.get(url, {"page": "x"}).context["page"].number == 1
    assert manager_client.get(url, {"page": "99"}).context["page"].number == 3


def test_the_history_page_follows_who_may_see_the_deal(client: Client) -> None:
    theirs = deal(owner=CrmUserFactory.create(email="someone@example.com"))
    client.force_login(UserFactory.create(role=Role.REP, email="rep@example.com"))

    assert client.get(reverse("deal_history", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("deal_history", args=[theirs.pk])).status_code == 405


def test_viewer_sees_no_form_and_cannot_post(viewer_client: Client) -> None:
    opportunity = deal()
    response = viewer_client.get(reverse("deal", args=[opportunity.pk]))
    assert "Edit tracking fields" not in response.content.decode()
    refused = viewer_client.post(
        reverse("deal", args=[opportunity.pk]), _form(opportunity, probability="90")
    )
    assert refused.status_code == 403
    opportunity.refresh_from_db()
    assert opportunity.probability == 10


def test_a_rep_cannot_edit_someone_elses_deal(rep_client: Client) -> None:
    theirs = deal()
    assert rep_client.post(reverse("deal", args=[theirs.pk]), _form(theirs)).status_code == 404


def test_editing_a_milestone_moves_phase_and_health_and_marks_it_pending(
    manager_client: Client,
) -> None:
    opportunity = deal(stage="Qualification", probability=10, phase=Phase.OPPORTUNITY)
    proposal = (timezone.localdate() - timedelta(days=40)).isoformat()
    response = manager_client.post(
        reverse("deal", args=[opportunity.pk]), _form(opportunity, proposal_submitted_on=proposal)
    )
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.phase == Phase.PROPOSAL
    assert opportunity.health_status == HealthStatus.DANGER
    assert opportunity.pending_fields == ["proposal_submitted_on"]
    page = manager_client.get(response["Location"]).content.decode()
    assert "Saved: Proposal submitted. Waiting to be sent to Zoho." in page
    assert "waiting to be sent to Zoho" in page


def test_htmx_edit_returns_the_updated_page_fragment(manager_client: Client) -> None:
    opportunity = deal(stage="Qualification")
    response = manager_client.post(
        reverse("deal", args=[opportunity.pk]),
        _form(opportunity, probability="35"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert "<strong>Saved:</strong> Probability (%)" in content
    again = manager_client.post(
        reverse("deal", args=[opportunity.pk]),
        _form(opportunity, probability="35"),
        headers={"HX-Request": "true"},
    )
    assert "Nothing changed" in again.content.decode()


def test_invalid_values_show_next_to_their_fields_and_nothing_is_lost(
    manager_client: Client,
) -> None:
    opportunity = deal(stage="Qualification")
    posted = _form(
        opportunity, probability="150", amount="12.345", closing_date="", kickoff_on="2026-02-30"
    )
    response = manager_client.post(
        reverse("deal", args=[opportunity.pk]), posted, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    content = response.content.decode()
    assert "Nothing was saved." in content
    assert "Enter a whole number from 0 to 100." in content
    assert "at most 2 decimals" in content
    assert "Closing date is required in Zoho." in content
    assert 'id="edit-probability" name="probability" value="150"' in content
    assert 'value="12.345"' in content
    assert 'aria-invalid="true" aria-describedby="edit-probability-error"' in content
    opportunity.refresh_from_db()
    assert opportunity.probability == 10
    full = manager_client.post(reverse("deal", args=[opportunity.pk]), posted)
    assert full.status_code == 422
    assert "<html" in full.content.decode()


def test_stage_choices_and_currency_choices(manager_client: Client) -> None:
    opportunity = deal(stage="Qualification")
    fields = {
        f.name: f
        for f in manager_client.get(reverse("deal", args=[opportunity.pk])).context["edit_fields"]
    }
    assert "Closed Won" in fields["stage"].choices
    assert "SGD" in fields["currency"].choices


def test_query_count_does_not_grow_with_history(manager_client: Client) -> None:
    opportunity = deal(owner=CrmUserFactory.create())
    url = reverse("deal", args=[opportunity.pk])

    def count() -> int:
        manager_client.get(url)
        with CaptureQueriesContext(connection) as captured:
            manager_client.get(url)
        return len(captured)

    for _ in range(5):
        ChangeEvent.objects.create(opportunity=opportunity, kind="new")
        PhaseTransitionFactory.create(opportunity=opportunity)
    few = count()
    for _ in range(45):
        ChangeEvent.objects.create(opportunity=opportunity, kind="new")
        PhaseTransitionFactory.create(opportunity=opportunity)
    assert count() == few


def test_a_rep_edits_own_deal(client: Client) -> None:
    mine = deal(owner=CrmUserFactory.create(email="rep@example.com"), stage="Qualification")
    client.force_login(UserFactory.create(role=Role.REP, email="rep@example.com"))
    response = client.post(reverse("deal", args=[mine.pk]), _form(mine, probability="25"))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.probability == 25
