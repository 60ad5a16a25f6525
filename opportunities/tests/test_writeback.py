"""Local edits meet Zoho's changes: the three-way merge on every incoming record, conflicts
settled by the strategy or a person, and the audit trail of each."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from pytest_django import Settings

from opportunities.models import Conflict, Opportunity
from opportunities.roles import Role
from opportunities.services.edits import opportunity_edit
from opportunities.services.writeback import conflict_resolve, pending_pushes
from opportunities.tests.factories import UserFactory
from opportunities.tests.syncing import sync_new, sync_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager() -> Any:
    return UserFactory.create(role=Role.MANAGER)


@pytest.fixture
def admin() -> Any:
    return UserFactory.create(role=Role.ADMIN)


def _deal(**fields: Any) -> Opportunity:
    fields.setdefault("closing_date", date(2027, 3, 1))
    return sync_new(stage="Needs Analysis", probability=30, **fields)


def _reload(deal: Opportunity) -> Opportunity:
    return Opportunity.objects.get(pk=deal.pk)


def test_a_field_changed_only_here_survives_a_sync_that_changed_others(manager: Any) -> None:
    deal = _deal()
    opportunity_edit(deal=deal, user=manager, changes={"closing_date": "2027-04-15"})
    sync_page({deal: {"probability": 40}})
    deal = _reload(deal)
    assert (deal.closing_date, deal.probability) == (date(2027, 4, 15), 40)
    assert deal.pending_fields == ["closing_date"]
    assert deal.zoho_values["closing_date"] == "2027-03-01"  # the base: what Zoho has
    assert not Conflict.objects.exists()


def test_both_sides_to_the_same_value_is_no_longer_pending(manager: Any) -> None:
    deal = _deal()
    opportunity_edit(deal=deal, user=manager, changes={"probability": 60})
    sync_page({deal: {"probability": 60}})
    assert _reload(deal).pending_fields == []
    assert not Conflict.objects.exists()


def test_by_default_zoho_wins_a_conflict_and_it_is_kept_for_the_record(manager: Any) -> None:
    deal = _deal()
    opportunity_edit(deal=deal, user=manager, changes={"closing_date": "2027-04-15"})
    sync_page({deal: {"closing_date": date(2027, 5, 31)}})
    deal = _reload(deal)
    assert (deal.closing_date, deal.pending_fields) == (date(2027, 5, 31), [])
    conflict = Conflict.objects.get()
    assert (conflict.field, conflict.base_value, conflict.local_value, conflict.zoho_value) == (
        "closing_date",
        "2027-03-01",
        "2027-04-15",
        "2027-05-31",
    )
    assert (conflict.strategy, conflict.status, conflict.resolution) == (
        "crm_wins",
        "resolved",
        "took_zoho",
    )


def test_local_wins_keeps_the_edit_to_push_over_zohos(manager: Any, settings: Settings) -> None:
    settings.ZOHO_CONFLICT_STRATEGY = "local_wins"
    deal = _deal()
    opportunity_edit(deal=deal, user=manager, changes={"probability": 70})
    sync_page({deal: {"probability": 45}})
    deal = _reload(deal)
    assert (deal.probability, deal.pending_fields) == (70, ["probability"])
    assert deal.zoho_values["probability"] == 45  # the push goes against Zoho's newest
    assert Conflict.objects.get().resolution == "kept_local"


def test_a_manual_conflict_waits_for_an_admin_and_is_not_pushed(
    manager: Any, admin: Any, settings: Settings
) -> None:
    settings.ZOHO_CONFLICT_STRATEGY_FIELDS = "stage=manual"
    deal = _deal()
    opportunity_edit(deal=deal, user=manager, changes={"stage": "Value Proposition"})
    sync_page({deal: {"stage": "Proposal/Price Quote"}})
    conflict = Conflict.objects.get()
    assert (conflict.status, conflict.strategy) == ("open", "manual")
    assert _reload(deal).stage == "Value Proposition"
    assert pending_pushes() == []  # blocked until decided
    # Zoho moves again: still one open conflict, the local value still shown.
    sync_page({deal: {"stage": "Negotiation/Review"}})
    assert Conflict.objects.filter(status="open").count() == 1

    conflict_resolve(conflict=conflict, user=admin, resolution="kept_local")
    (push,) = pending_pushes()
    assert push.changes == {"stage": "Value Proposition"}
    conflict.refresh_from_db()
    assert (conflict.resolution, conflict.resolved_by) == ("kept_local", admin)
    assert conflict.history.filter(history_user=admin).exists()


def test_an_open_conflict_follows_zohos_newest_value_and_taking_zoho_takes_that(
    manager: Any, admin: Any, settings: Settings
) -> None:
    settings.ZOHO_CONFLICT_STRATEGY = "manual"
    deal = _deal()
    opportunity_edit(deal=deal, user=manager, changes={"stage": "Value Proposition"})
    sync_page({deal: {"stage": "Proposal/Price Quote"}})
    sync_page({deal: {"stage": "Negotiation/Review"}})  # Zoho moves again before a decision
    conflict = Conflict.objects.get()
    assert (conflict.local_value, conflict.zoho_value) == (
        "Value Proposition",
        "Negotiation/Review",
    )
    assert conflict.history.count() == 2  # found, then Zoho's newer value: both audited

    conflict_resolve(conflict=conflict, user=admin, resolution="took_zoho")

    deal = _reload(deal)
    assert (deal.stage, deal.pending_fields) == ("Negotiation/Review", [])
    assert deal.stage == deal.zoho_values["stage"]  # local and Zoho agree again


def test_an_amount_conflict_over_20_percent_is_manual_whatever_the_strategy(
    manager: Any, settings: Settings
) -> None:
    settings.ZOHO_CONFLICT_STRATEGY = "local_wins"
    deal = _deal(amount=Decimal("10000.00"))
    opportunity_edit(deal=deal, user=manager, changes={"amount": "11000"})
    sync_page({deal: {"amount": Decimal("15000.00")}})
    assert Conflict.objects.get().status == "open"


@pytest.mark.parametrize(
    ("resolution", "value", "expected", "pending"),
    [
        ("took_zoho", None, date(2027, 5, 31), []),
        ("kept_local", None, date(2027, 4, 15), ["closing_date"]),
        ("entered", "2027-06-30", date(2027, 6, 30), ["closing_date"]),
    ],
)
def test_an_admin_resolves_a_conflict_three_ways(
    manager: Any,
    admin: Any,
    settings: Settings,
    resolution: str,
    value: str | None,
    expected: date,
    pending: list[str],
) -> None:
    settings.ZOHO_CONFLICT_STRATEGY = "manual"
    deal = _deal()
    opportunity_edit(deal=deal, user=manager, changes={"closing_date": "2027-04-15"})
    sync_page({deal: {"closing_date": date(2027, 5, 31)}})
    conflict = Conflict.objects.get()

    conflict_resolve(conflict=conflict, user=admin, resolution=resolution, value=value)

    deal = _reload(deal)
    assert (deal.closing_date, deal.pending_fields) == (expected, pending)
    conflict.refresh_from_db()
    assert (conflict.status, conflict.resolved_value) == ("resolved", expected.isoformat())
    # The audit trail: the deal's change by the admin, old and new value.
    change = deal.history.filter(history_user=admin).latest("history_date")
    assert change.closing_date == expected


def test_only_admins_resolve_and_a_bad_value_is_refused(
    manager: Any, admin: Any, settings: Settings
) -> None:
    settings.ZOHO_CONFLICT_STRATEGY = "manual"
    deal = _deal()
    opportunity_edit(deal=deal, user=manager, changes={"probability": 55})
    sync_page({deal: {"probability": 65}})
    conflict = Conflict.objects.get()
    with pytest.raises(PermissionDenied):
        conflict_resolve(conflict=conflict, user=manager, resolution="took_zoho")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        conflict_resolve(conflict=conflict, user=admin, resolution="entered", value="150")
    conflict.refresh_from_db()
    assert conflict.status == "open"


def test_local_edits_are_audited_with_who_and_the_old_and_new_value(manager: Any) -> None:
    deal = _deal()
    opportunity_edit(
        deal=deal,
        user=manager,
        changes={"kickoff_on": timezone.localdate() - timedelta(days=1)},
    )
    latest = deal.history.latest("history_date")
    assert latest.history_user == manager
    delta = latest.diff_against(latest.prev_record)
    assert [change.field for change in delta.changes if change.field == "kickoff_on"]


@pytest.mark.parametrize(
    ("resolution", "expected"),
    [
        ("took_zoho", (Decimal("900.00"), "USD", [])),
        ("kept_local", (Decimal("1000.00"), "EUR", ["amount", "currency"])),
    ],
)
def test_a_money_conflict_is_settled_whole_whichever_half_the_admin_picks(
    manager: Any, admin: Any, resolution: str, expected: tuple[object, ...]
) -> None:
    deal = _deal(amount=Decimal("500.00"), currency="USD")
    opportunity_edit(deal=deal, user=manager, changes={"amount": "1000", "currency": "EUR"})
    sync_page({deal: {"amount": Decimal("900.00")}})  # an 80% move in Zoho: manual
    assert set(Conflict.objects.open().values_list("field", flat=True)) == {"amount", "currency"}

    conflict_resolve(
        conflict=Conflict.objects.get(field="currency"), user=admin, resolution=resolution
    )

    deal = _reload(deal)
    assert (deal.amount, deal.currency, deal.pending_fields) == expected
    assert not Conflict.objects.open().exists()
    assert set(Conflict.objects.values_list("resolution", flat=True)) == {resolution}


def test_a_currency_edited_while_the_amount_waits_joins_the_conflict(
    manager: Any, admin: Any, settings: Settings
) -> None:
    settings.ZOHO_CONFLICT_STRATEGY = "manual"
    deal = _deal(amount=Decimal("500.00"), currency="USD")
    opportunity_edit(deal=deal, user=manager, changes={"amount": "600"})
    sync_page({deal: {"amount": Decimal("650.00")}})
    opportunity_edit(deal=_reload(deal), user=manager, changes={"amount": "700", "currency": "EUR"})

    waiting = {c.field: c for c in Conflict.objects.open()}
    assert set(waiting) == {"amount", "currency"}  # the Admin sees (and decides) both halves
    assert (waiting["amount"].local_value, waiting["currency"].local_value) == ("700.00", "EUR")
    conflict_resolve(conflict=waiting["amount"], user=admin, resolution="took_zoho")

    deal = _reload(deal)
    assert (deal.amount, deal.currency, deal.pending_fields) == (Decimal("650.00"), "USD", [])
    assert not Conflict.objects.open().exists()
