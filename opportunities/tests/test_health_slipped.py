"""The Slipped health rule: a closing date moved into a later quarter within the window.

Pure at its boundaries, then through the history service as a sync records pushes, including
an overdue deal pushed out (it stops being overdue, never stops showing the slip), and the
per-deal rescoring agreeing with the nightly run over every deal.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from opportunities.health_rules import health_evaluate
from opportunities.models import HealthStatus, HealthThresholds, Opportunity
from opportunities.services.health import health_recompute
from opportunities.services.history import DEAL_STATE, DealChange, deal_changes_record
from opportunities.tests.screens import deal
from opportunities.tests.test_health import HEALTHY, SGT, TODAY, codes
from pipeline_pulse.dates import start_of_day

# TODAY is 15 Jun 2026 (Q2). A deal due 20 Jun slipped to 10 Jul (Q3) on `slipped_on`.
SLIPPED = replace(
    HEALTHY,
    closing_date=date(2026, 7, 10),
    slipped_from=date(2026, 6, 20),
    slipped_at=datetime(2026, 6, 2, 11, 0, tzinfo=SGT),
    closing_date_push_count=1,
)


def _evaluate(facts: Any, thresholds: HealthThresholds | None = None) -> Any:
    return health_evaluate(facts, today=TODAY, thresholds=thresholds or HealthThresholds())


def test_a_slip_into_a_later_quarter_is_a_warning_naming_the_quarters() -> None:
    health = _evaluate(SLIPPED)
    assert health.status == HealthStatus.WARNING
    (reason,) = [r for r in health.reasons if r.code == "slipped"]
    assert reason.message == "Closing date slipped from Q2 2026 to Q3 2026 on 2 Jun"


@pytest.mark.parametrize(
    ("slipped_on", "fires"),
    [(TODAY - timedelta(days=30), True), (TODAY - timedelta(days=31), False), (TODAY, True)],
)
def test_the_window_is_30_days_by_default(slipped_on: date, fires: bool) -> None:
    at = datetime.combine(slipped_on, datetime.min.time(), tzinfo=SGT) + timedelta(hours=23)
    assert ("slipped" in codes(_evaluate(replace(SLIPPED, slipped_at=at)))) is fires


def test_the_window_is_an_admin_threshold() -> None:
    assert "slipped" not in codes(_evaluate(SLIPPED, HealthThresholds(slipped_within_days=10)))
    assert "slipped" in codes(_evaluate(SLIPPED, HealthThresholds(slipped_within_days=13)))


def test_a_date_pulled_back_into_its_old_quarter_has_not_slipped() -> None:
    assert "slipped" not in codes(_evaluate(replace(SLIPPED, closing_date=date(2026, 6, 29))))


def test_a_slip_across_years_names_both_years() -> None:
    facts = replace(
        SLIPPED,
        closing_date=date(2027, 1, 15),
        slipped_from=date(2026, 12, 20),
        slipped_at=datetime(2026, 12, 2, 9, 0, tzinfo=SGT),
    )
    health = health_evaluate(facts, today=date(2026, 12, 3), thresholds=HealthThresholds())
    assert "Closing date slipped from Q4 2026 to Q1 2027 on 2 Dec" in [
        r.message for r in health.reasons
    ]


def test_won_and_lost_deals_are_not_chased_for_a_slip() -> None:
    assert "slipped" not in codes(_evaluate(replace(SLIPPED, outcome="won", phase=4)))
    assert _evaluate(replace(SLIPPED, outcome="lost")).status == HealthStatus.NEUTRAL


# --- Through the history service, as a sync records it -----------------------------------------

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # Thursday 3 Dec 2026, 10:00 in Singapore


def _push(opportunity: Opportunity, day: date, closing: date) -> None:
    at = start_of_day(day) + timedelta(hours=9)
    before = {name: getattr(opportunity, name) for name in DEAL_STATE}
    Opportunity.objects.filter(pk=opportunity.pk).update(closing_date=closing)
    with time_machine.travel(at, tick=False):
        deal_changes_record(changes=[DealChange.before(opportunity.pk, before)], at=at)
    opportunity.refresh_from_db()


def _recent(opportunity: Opportunity) -> None:
    """Touched in Zoho today, so "no change in Zoho" does not muddy the reasons."""
    Opportunity.objects.filter(pk=opportunity.pk).update(zoho_modified_time=NOW)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_an_overdue_deal_pushed_out_is_no_longer_overdue_but_shows_the_slip(
    manager_client: Client,
) -> None:
    overdue = deal(name="Overdue", closing=date(2026, 11, 20), probability=40, phase=2)
    _recent(overdue)
    health_recompute(opportunity_ids=[overdue.pk])
    overdue.refresh_from_db()
    assert overdue.health_status == HealthStatus.DANGER  # closing date passed
    _push(overdue, date(2026, 12, 2), date(2027, 1, 30))
    assert (overdue.slipped_from, overdue.closing_date_push_count) == (date(2026, 11, 20), 1)
    assert overdue.health_status == HealthStatus.WARNING
    messages = [reason["message"] for reason in overdue.health_reasons]
    assert "Closing date slipped from Q4 2026 to Q1 2027 on 2 Dec" in messages
    assert not any("passed" in message for message in messages)
    # The board and the deal page show the slip and the push count.
    cache.clear()
    board = manager_client.get(reverse("board") + "?slipped=true")
    (row,) = board.context["page"].object_list
    assert (row.name, row.closing_date_push_count) == ("Overdue", 1)
    assert "slipped from Q4 2026 to Q1 2027" in board.content.decode()
    page = manager_client.get(reverse("deal", args=[overdue.pk])).content.decode()
    assert "Closing date slipped from Q4 2026 to Q1 2027 on 2 Dec" in page
    assert "From Q4 2026 (20 Nov 2026) on 2 Dec 2026; now closing in Q1 2027" in page
    assert 'Closing date pushed out</dt><dd class="tabular">1 time' in page


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_push_within_the_quarter_is_no_slip_and_a_later_slip_replaces_the_first() -> None:
    opportunity = deal(closing=date(2026, 12, 10))
    _push(opportunity, date(2026, 11, 2), date(2026, 12, 20))
    assert opportunity.slipped_from is None
    _push(opportunity, date(2026, 11, 3), date(2027, 1, 5))
    assert opportunity.slipped_from == date(2026, 12, 20)
    _push(opportunity, date(2026, 12, 1), date(2027, 4, 2))
    assert opportunity.slipped_from == date(2027, 1, 5)
    messages = [reason["message"] for reason in opportunity.health_reasons]
    assert "Closing date slipped from Q1 2027 to Q2 2027 on 1 Dec" in messages


@pytest.mark.django_db
def test_per_deal_rescoring_and_the_nightly_run_agree() -> None:
    with time_machine.travel(NOW, tick=False):
        deals = [
            deal(name=f"Deal {index}", closing=date(2026, 12, 5 + index)) for index in range(6)
        ]
        for index, opportunity in enumerate(deals):
            _recent(opportunity)
            if index % 2 == 0:
                _push(opportunity, date(2026, 11, 1 + index * 5), date(2027, 1, 10 + index))
    ids = [opportunity.pk for opportunity in deals]
    # A month on, some slips have left the window: each way of rescoring must say the same.
    later = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)
    with time_machine.travel(later, tick=False):
        health_recompute(opportunity_ids=ids)
        per_deal = dict(Opportunity.objects.filter(pk__in=ids).values_list("pk", "health_reasons"))
        Opportunity.objects.filter(pk__in=ids).update(health_reasons=[])
        health_recompute()
        nightly = dict(Opportunity.objects.filter(pk__in=ids).values_list("pk", "health_reasons"))
    assert per_deal == nightly
    slipped = {
        pk for pk, reasons in nightly.items() if any(r["code"] == "slipped" for r in reasons)
    }
    # Pushed on 1, 11 and 21 Nov: on 20 Dec only the pushes of 21 Nov and later are within 30 days.
    assert slipped == {deals[4].pk}
