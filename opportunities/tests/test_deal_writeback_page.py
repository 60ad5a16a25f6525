"""The deal page shows its edits on their way to Zoho: waiting, refused, in conflict, settled,
and who edited what (the audit history)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django import Settings

from currency.services import rate_override_set
from opportunities.models import Conflict, Opportunity
from opportunities.roles import Role
from opportunities.services.edits import opportunity_edit
from opportunities.services.writeback import pending_pushes, push_refused
from opportunities.tests.factories import UserFactory
from opportunities.tests.syncing import sync_new, sync_page

pytestmark = pytest.mark.django_db


def _page(client: Client, deal: Opportunity) -> str:
    response = client.get(reverse("deal", args=[deal.pk]))
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def _deal() -> Opportunity:
    return sync_new(stage="Needs Analysis", probability=30, closing_date=date(2027, 3, 1))


def test_a_waiting_edit_shows_both_values_and_who_made_it(manager_client: Client) -> None:
    deal = _deal()
    user = manager_client.user  # type: ignore[attr-defined]
    user.first_name, user.last_name = "Mei", "Lim"
    user.save()
    opportunity_edit(deal=deal, user=user, changes={"closing_date": "2027-04-15"})

    page = _page(manager_client, deal)

    assert "Edits on their way to Zoho" in page
    assert '<td>Closing date</td> <td class="tabular">15 Apr 2027</td>' in page
    assert '<td class="tabular">1 Mar 2027</td>' in page  # what Zoho still has
    assert "Sent to Zoho in the next batch." in page
    # The audit: who, the old value and the new one.
    assert "Edits made here" in page
    assert "Mei Lim" in page
    assert "Edited in Pipeline Pulse" in page


def test_a_value_zoho_refused_says_why_next_to_the_field(manager_client: Client) -> None:
    deal = _deal()
    opportunity_edit(deal=deal, user=manager_client.user, changes={"probability": "55"})  # type: ignore[attr-defined]
    (push,) = pending_pushes()
    push_refused(push=push, field="probability", message="INVALID_DATA: probability is locked")

    page = _page(manager_client, deal)

    assert "Zoho refused 1 value" in page
    assert "Zoho refused it: INVALID_DATA: probability is locked" in page
    assert "Zoho refused this value: INVALID_DATA: probability is locked" in page  # in the form


def test_an_open_conflict_shows_three_values_and_an_admin_settles_it_on_the_page(
    manager_client: Client, settings: Settings
) -> None:
    settings.ZOHO_CONFLICT_STRATEGY = "manual"
    deal = _deal()
    opportunity_edit(deal=deal, user=manager_client.user, changes={"probability": "35"})  # type: ignore[attr-defined]
    sync_page({deal: {"probability": 60}})
    conflict = Conflict.objects.get()
    decide = reverse("deal_conflict_decide", args=[deal.pk, conflict.pk])

    page = _page(manager_client, deal)
    assert "1 conflict with Zoho" in page
    assert 'Before both changes</dt><dd class="tabular">30%' in page
    assert 'Here</dt><dd class="tabular">35%' in page
    assert 'Zoho now</dt><dd class="tabular">60%' in page
    assert "An Admin decides which value stays" in page
    assert decide not in page  # a Manager reads, an Admin decides
    assert manager_client.post(decide, {"resolution": "took_zoho"}).status_code == 403

    admin = Client()
    admin.force_login(UserFactory.create(role=Role.ADMIN))
    assert decide in _page(admin, deal)
    refused = admin.post(decide, {"resolution": "entered", "value": "150"})
    assert refused.status_code == 422
    assert "Enter a whole number from 0 to 100." in refused.content.decode()
    assert Conflict.objects.get().status == "open"  # nothing settled by a bad value

    settled = admin.post(decide, {"resolution": "entered", "value": "50"})
    assert settled.status_code == 302
    deal.refresh_from_db()
    assert (deal.probability, deal.pending_fields) == (50, ["probability"])  # on its way
    page = _page(manager_client, deal)
    assert "conflict with Zoho" not in page
    assert "Settled conflicts" in page
    assert "kept <strong>50%</strong>" in page
    assert "Conflict on Probability (%) resolved: Entered a value" in page  # the audit says why


def test_a_conflict_of_another_deal_or_an_unknown_choice_is_refused(
    admin_client_: Client, settings: Settings
) -> None:
    settings.ZOHO_CONFLICT_STRATEGY = "manual"
    deal, other = _deal(), _deal()
    opportunity_edit(deal=deal, user=admin_client_.user, changes={"probability": "35"})  # type: ignore[attr-defined]
    sync_page({deal: {"probability": 60}})
    conflict = Conflict.objects.get()
    wrong_deal = reverse("deal_conflict_decide", args=[other.pk, conflict.pk])
    assert admin_client_.post(wrong_deal, {"resolution": "took_zoho"}).status_code == 404
    right = reverse("deal_conflict_decide", args=[deal.pk, conflict.pk])
    assert admin_client_.post(right, {"resolution": "flip_a_coin"}).status_code == 422
    assert admin_client_.get(right).status_code == 405
    assert Conflict.objects.get().status == "open"


def test_the_rate_overrides_behind_the_amount_are_on_the_page(manager_client: Client) -> None:
    admin = UserFactory.create(role=Role.ADMIN, first_name="Ana", last_name="Cruz")
    deal = sync_new(stage="Needs Analysis", currency="PHP", amount=Decimal("100000.00"))
    rate_override_set(
        currency="PHP", units_per_usd=Decimal("58.1"), reason="Bank's fixing", user=admin
    )
    rate_override_set(
        currency="EUR", units_per_usd=Decimal("0.9"), reason="Not this deal's", user=admin
    )

    page = _page(manager_client, deal)

    assert "Rate overrides by Admins" in page
    assert "<strong>58.1 PHP</strong> per USD" in page
    assert "Set by Ana Cruz" in page
    assert "Bank&#x27;s fixing" in page
    assert "EUR</strong>" not in page


def test_the_audit_shows_each_edits_true_old_value_after_a_sync_changed_it(
    manager_client: Client,
) -> None:
    deal = _deal()
    user = manager_client.user  # type: ignore[attr-defined]
    opportunity_edit(deal=deal, user=user, changes={"probability": "40"})
    sync_page({deal: {"probability": 40}})  # pushed and back: no longer pending
    sync_page({deal: {"probability": 70}})  # then changed in Zoho
    opportunity_edit(
        deal=Opportunity.objects.get(pk=deal.pk), user=user, changes={"probability": "80"}
    )

    edits = manager_client.get(reverse("deal", args=[deal.pk])).context["local_edits"]

    assert [(e["who"], [(c["old"], c["new"]) for c in e["changes"]]) for e in edits] == [
        (user.get_username(), [("70%", "80%")]),
        ("Zoho", [("40%", "70%")]),
        (user.get_username(), [("30%", "40%")]),
    ]


def test_the_page_reads_the_same_number_of_queries_with_many_edits_and_conflicts(
    manager_client: Client, settings: Settings
) -> None:
    settings.ZOHO_CONFLICT_STRATEGY = "crm_wins"
    deal = _deal()
    user = manager_client.user  # type: ignore[attr-defined]

    def count() -> int:
        _page(manager_client, deal)  # warm the cached figures
        with CaptureQueriesContext(connection) as queries:
            _page(manager_client, deal)
        return len(queries)

    opportunity_edit(deal=deal, user=user, changes={"probability": "31"})
    sync_page({deal: {"probability": 45}})  # a conflict Zoho wins
    few = count()
    for value in range(50, 62):
        opportunity_edit(
            deal=Opportunity.objects.get(pk=deal.pk), user=user, changes={"probability": value}
        )
        sync_page({deal: {"probability": value + 20, "amount": Decimal(1000 + value)}})
    assert Conflict.objects.count() > 10
    assert count() == few


def test_a_deal_never_edited_here_and_never_disputed_skips_both_reads(
    manager_client: Client, settings: Settings
) -> None:
    """Most deals have no local edits and no conflicts: the page asks the deal query whether
    they exist, and reads them only when they do."""
    settings.ZOHO_CONFLICT_STRATEGY = "manual"
    quiet, disputed = _deal(), _deal()
    user = manager_client.user  # type: ignore[attr-defined]

    def reads(deal: Opportunity) -> set[str]:
        _page(manager_client, deal)  # warm the cached figures
        with CaptureQueriesContext(connection) as queries:
            _page(manager_client, deal)
        return {query["sql"].split(".", 1)[0].removeprefix("SELECT ") for query in queries}

    assert not {'"opportunities_conflict"', '"opportunities_historicalopportunity"'} & reads(quiet)
    opportunity_edit(deal=disputed, user=user, changes={"probability": "35"})
    sync_page({disputed: {"probability": 60}})
    assert {'"opportunities_conflict"', '"opportunities_historicalopportunity"'} <= reads(disputed)
    page = _page(manager_client, disputed)
    assert "Edits made here" in page
    assert "1 conflict with Zoho" in page
    assert "Edits made here" not in _page(manager_client, quiet)


def test_the_board_flags_a_deal_in_conflict(manager_client: Client, settings: Settings) -> None:
    settings.ZOHO_CONFLICT_STRATEGY = "manual"
    quiet, edited, disputed = _deal(), _deal(), _deal()
    user = manager_client.user  # type: ignore[attr-defined]
    opportunity_edit(deal=edited, user=user, changes={"probability": "35"})
    opportunity_edit(deal=disputed, user=user, changes={"probability": "35"})
    sync_page({disputed: {"probability": 60}})

    rows = manager_client.get(reverse("board")).context["page"].object_list
    flags = {row.pk: (row.in_conflict, bool(row.pending_fields)) for row in rows}

    assert flags == {quiet.pk: (False, False), edited.pk: (False, True), disputed.pk: (True, True)}
    board = manager_client.get(reverse("board")).content.decode()
    assert board.count(">Conflict</span>") == 1
    assert board.count(">Pending Zoho</span>") == 1
