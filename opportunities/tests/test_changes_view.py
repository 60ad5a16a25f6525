"""What changed: a period's events by kind, totals in SGD, each event linking to its deal."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from opportunities.models import ChangeEvent, ChangeKind
from opportunities.roles import Role
from opportunities.tests.factories import CrmUserFactory, UserFactory
from opportunities.tests.screens import deal
from pipeline_pulse.dates import start_of_day

pytestmark = pytest.mark.django_db

# A Thursday in Singapore.
THURSDAY = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.get_fixed_timezone(480))


AMOUNT_KINDS = (ChangeKind.AMOUNT_UP, ChangeKind.AMOUNT_DOWN)


def _event(
    kind: str,
    day_offset: int,
    *,
    sgd: str | None = "1000.00",
    delta: str | None = None,
    **deal_fields: Any,
) -> ChangeEvent:
    opportunity = deal(sgd=sgd, **deal_fields)
    return ChangeEvent.objects.create(
        opportunity=opportunity,
        kind=kind,
        old_value="2026-11-01" if kind == ChangeKind.CLOSING_DATE_PUSHED else "",
        new_value="2026-12-01" if kind == ChangeKind.CLOSING_DATE_PUSHED else "",
        delta=Decimal(delta) if delta else None,
        # As the history service records it: the SGD change of an amount, else the deal's SGD.
        sgd_value=Decimal(delta) if kind in AMOUNT_KINDS and delta else sgd and Decimal(sgd),
        occurred_at=start_of_day(THURSDAY.date() + timedelta(days=day_offset)) + timedelta(hours=9),
    )


@time_machine.travel(THURSDAY, tick=False)
def test_default_is_this_week_monday_to_today(manager_client: Client) -> None:
    _event(ChangeKind.NEW, 0, name="Today's deal")
    _event(ChangeKind.NEW, -3, name="Monday's deal")
    _event(ChangeKind.NEW, -4, name="Last Sunday's deal")
    response = manager_client.get(reverse("changes"))
    assert (response.context["start"].isoformat(), response.context["end"].isoformat()) == (
        "2026-11-23",
        "2026-11-26",
    )
    content = response.content.decode()
    assert "Today&#x27;s deal" in content or "Today's deal" in content
    assert "Monday" in content
    assert "Last Sunday" not in content
    assert "23 Nov 2026 \u2013 26 Nov 2026" in content


@time_machine.travel(THURSDAY, tick=False)
@pytest.mark.parametrize(
    ("query", "bounds"),
    [
        ("?period=last_week", ("2026-11-16", "2026-11-22")),
        ("?period=this_month", ("2026-11-01", "2026-11-26")),
        ("?period=last_30_days", ("2026-10-28", "2026-11-26")),
        ("?period=custom&start=2026-01-01&end=2026-01-31", ("2026-01-01", "2026-01-31")),
    ],
)
def test_periods(manager_client: Client, query: str, bounds: tuple[str, str]) -> None:
    context = manager_client.get(reverse("changes") + query).context
    assert (context["start"].isoformat(), context["end"].isoformat()) == bounds


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?period=custom", "Enter the first day of the period."),
        ("?period=custom&start=2026-02-01&end=2026-01-01", "The last day is before the first."),
        ("?period=custom&start=2020-01-01&end=2026-01-01", "Choose at most 366 days."),
        ("?period=fortnight", "Select a valid choice"),
        ("?kind=rumour", "Select a valid choice"),
        ("?period=custom&start=yesterday&end=2026-01-01", "Enter a valid date"),
    ],
)
def test_bad_periods_are_clear_errors(manager_client: Client, query: str, message: str) -> None:
    response = manager_client.get(reverse("changes") + query)
    assert response.status_code == 400
    content = response.content.decode()
    assert "could not be read" in content
    assert message in content


@time_machine.travel(THURSDAY, tick=False)
def test_grouped_by_kind_with_counts_and_sgd_totals(manager_client: Client) -> None:
    _event(ChangeKind.AMOUNT_UP, 0, sgd="5000.00", delta="1500.00")
    _event(ChangeKind.AMOUNT_DOWN, 0, sgd="5000.00", delta="-200.50")
    _event(ChangeKind.AMOUNT_DOWN, -1, sgd="5000.00", delta="-100.00")
    _event(ChangeKind.WON, 0, sgd="75000.00")
    _event(ChangeKind.CLOSING_DATE_PUSHED, 0, sgd="3000.00", delta="30")
    sections = {s["kind"]: s for s in manager_client.get(reverse("changes")).context["sections"]}
    assert (sections["amount_up"]["count"], sections["amount_up"]["sgd"]) == (1, Decimal("1500.00"))
    assert (sections["amount_down"]["count"], sections["amount_down"]["sgd"]) == (
        2,
        Decimal("-300.50"),
    )
    assert (sections["won"]["count"], sections["won"]["sgd"]) == (1, Decimal("75000.00"))
    # A pushed closing date totals the deal's SGD amount, not the days it moved.
    assert sections["closing_date_pushed"]["sgd"] == Decimal("3000.00")
    content = manager_client.get(reverse("changes")).content.decode()
    assert "\u2212S$300.50" in content
    assert "1 Nov 2026" in content  # closing dates shown as dates


@time_machine.travel(THURSDAY, tick=False)
def test_each_event_links_to_its_deal_and_one_kind_pages(manager_client: Client) -> None:
    events = [_event(ChangeKind.NEW, 0) for _ in range(10)]
    response = manager_client.get(reverse("changes"))
    (section,) = [s for s in response.context["sections"] if s["kind"] == "new"]
    assert len(section["events"]) == 8  # the newest few; the rest behind "Show all"
    content = response.content.decode()
    assert reverse("deal", args=[events[-1].opportunity_id]) in content
    assert "Show all 10" in content
    one_kind = manager_client.get(reverse("changes") + "?kind=new")
    assert len(one_kind.context["page"].object_list) == 10


@time_machine.travel(THURSDAY, tick=False)
def test_a_rep_sees_only_changes_to_own_deals(client: Client) -> None:
    mine = CrmUserFactory.create(email="rep@example.com")
    _event(ChangeKind.NEW, 0, name="Mine", owner=mine)
    _event(ChangeKind.NEW, 0, name="Theirs")
    _event(ChangeKind.NEW, 0, name="Deleted", owner=mine, is_deleted=True)
    client.force_login(UserFactory.create(role=Role.REP, email="rep@example.com"))
    content = client.get(reverse("changes")).content.decode()
    assert "Mine" in content
    assert "Theirs" not in content
    assert "Deleted" not in content


def test_nothing_changed_says_so(manager_client: Client) -> None:
    assert (
        "Nothing changed in this period" in manager_client.get(reverse("changes")).content.decode()
    )


@time_machine.travel(THURSDAY, tick=False)
def test_query_count_does_not_grow_with_events(manager_client: Client) -> None:
    def count(query: str) -> int:
        manager_client.get(reverse("changes") + query)
        with CaptureQueriesContext(connection) as captured:
            manager_client.get(reverse("changes") + query)
        return len(captured)

    for kind in (
        ChangeKind.NEW,
        ChangeKind.WON,
        ChangeKind.AMOUNT_UP,
        ChangeKind.LOST,
        ChangeKind.NEW,
    ):
        _event(kind, 0, delta="5.00")
    few = count(""), count("?kind=new")
    for _ in range(45):
        _event(ChangeKind.NEW, 0)
    assert (count(""), count("?kind=new")) == few
