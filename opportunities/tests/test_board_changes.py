"""The board's changes since a day: markers per deal, the moved/slipped/pushed filters, the
columns, exports and the API agreeing with the board, and a query count that does not grow.

Changes are recorded through the history service (as a sync records them), on a frozen
clock; the expected markers are worked out here from the values the test sets.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from opportunities.models import HealthStatus, Opportunity, Outcome
from opportunities.services.history import DEAL_STATE, DealChange, deal_changes_record
from opportunities.tests.screens import deal
from pipeline_pulse.dates import start_of_day

pytestmark = pytest.mark.django_db

# Thursday 3 Dec 2026, 10:00 in Singapore: this week's Monday is 30 Nov.
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
MONDAY = date(2026, 11, 30)


def _at(day: date, hour: int = 9) -> datetime:
    return start_of_day(day) + timedelta(hours=hour)


def _change(opportunity: Opportunity, at: datetime, **values: Any) -> None:
    """Change the deal's values as a sync would, and record what that means at `at`."""
    before = {name: getattr(opportunity, name) for name in DEAL_STATE}
    Opportunity.objects.filter(pk=opportunity.pk).update(**values)
    with time_machine.travel(at, tick=False):
        deal_changes_record(changes=[DealChange.before(opportunity.pk, before)], at=at)
    opportunity.refresh_from_db()


def _created(opportunity: Opportunity, at: datetime) -> None:
    # As the CRM service stores a new deal: first seen, in its stage and phase, at `at`.
    Opportunity.objects.filter(pk=opportunity.pk).update(
        zoho_created_time=at, created_at=at, stage_entered_at=at, phase_entered_at=at
    )
    with time_machine.travel(at, tick=False):
        deal_changes_record(changes=[DealChange(opportunity.pk, created=True)], at=at)


def _pipeline() -> dict[str, Opportunity]:
    """Deals with a known week: what moved on which day is stated here."""
    long_ago = _at(date(2026, 9, 1))
    deals = {
        "slipped": deal(name="Slipped", closing=date(2026, 12, 20), sgd="1000.00", fx_rate=1),
        "new": deal(name="New", closing=date(2027, 2, 1)),
        "last_week": deal(name="Last week", closing=date(2026, 12, 31)),
        "back": deal(name="Back", closing=date(2026, 12, 15)),
        "won": deal(name="Won", closing=date(2026, 12, 10), phase=3),
        "quiet": deal(name="Quiet", closing=date(2027, 1, 5)),
        "pulled": deal(name="Pulled", closing=date(2027, 1, 20), sgd="800.00", fx_rate=1),
    }
    for key, opportunity in deals.items():
        if key != "new":
            _created(opportunity, long_ago)
    _created(deals["new"], _at(date(2026, 12, 1)))
    # Tuesday: pushed out of Q4 into Q1, and the amount up by 500 (SGD deal, rate 1).
    _change(
        deals["slipped"],
        _at(date(2026, 12, 1)),
        closing_date=date(2027, 1, 15),
        amount=Decimal("1500.00"),
        amount_sgd=Decimal("1500.00"),
    )
    # Last Friday: nothing since Monday.
    _change(deals["last_week"], _at(date(2026, 11, 27)), closing_date=date(2027, 1, 31))
    # Monday pushed, Wednesday pulled back to where it was.
    _change(deals["back"], _at(date(2026, 11, 30)), closing_date=date(2026, 12, 22))
    _change(deals["back"], _at(date(2026, 12, 2)), closing_date=date(2026, 12, 15))
    # Wednesday: won (phase 3 → 4).
    _change(deals["won"], _at(date(2026, 12, 2)), outcome=Outcome.WON, phase=4)
    # Wednesday: pulled into this quarter, amount down by 300.
    _change(
        deals["pulled"],
        _at(date(2026, 12, 2)),
        closing_date=date(2026, 12, 28),
        amount=Decimal("500.00"),
        amount_sgd=Decimal("500.00"),
    )
    return deals


def _rows(client: Client, query: str = "") -> dict[str, Any]:
    cache.clear()
    response = client.get(reverse("board") + query)
    assert response.status_code == 200, response.content.decode()[:800]
    return {row.name: row for row in response.context["page"].object_list}


def _codes(row: Any) -> list[str]:
    return [marker.code for marker in row.moves.markers()]


@time_machine.travel(NOW, tick=False)
def test_markers_since_monday_by_default(manager_client: Client) -> None:
    _pipeline()
    rows = _rows(manager_client)
    assert rows["Slipped"].moves.amount_sgd == Decimal("1500.00") - Decimal("1000.00")
    assert _codes(rows["Slipped"]) == ["amount_up", "closing_date_pushed"]
    labels = [marker.label for marker in rows["Slipped"].moves.markers()]
    days = (date(2027, 1, 15) - date(2026, 12, 20)).days
    assert labels == ["Amount +S$500.00", f"Pushed {days}d · Q4 2026 → Q1 2027"]
    assert "left Q4 2026" in rows["Slipped"].moves.summary()
    assert _codes(rows["New"]) == ["new"]
    assert _codes(rows["Last week"]) == []
    assert _codes(rows["Back"]) == ["back"]  # pushed and pulled back: no net move
    assert _codes(rows["Won"]) == ["won", "phase_forward"]
    assert _codes(rows["Pulled"]) == ["amount_down", "closing_date_pulled_in"]
    pulled = rows["Pulled"].moves
    assert (pulled.amount_sgd, pulled.closing_days) == (Decimal("-300.00"), -23)
    assert "entered Q4 2026" in pulled.summary()
    assert _codes(rows["Quiet"]) == []
    content = manager_client.get(reverse("board")).content.decode()
    assert "Since 30 Nov 2026" in content
    assert f"Pushed {days}d · Q4 2026 → Q1 2027" in content


@time_machine.travel(NOW, tick=False)
def test_since_moves_the_day_the_markers_count_from(manager_client: Client) -> None:
    _pipeline()
    rows = _rows(manager_client, "?since=2026-12-02")
    assert _codes(rows["Slipped"]) == []  # Tuesday's changes are before Wednesday
    assert _codes(rows["New"]) == []
    assert _codes(rows["Won"]) == ["won", "phase_forward"]
    rows = _rows(manager_client, "?since=2026-11-27")
    assert _codes(rows["Last week"]) == ["closing_date_pushed"]
    # `since` alone chooses no deals: the default view (lost hidden) stays.
    cache.clear()
    response = manager_client.get(reverse("board") + "?since=2026-11-27")
    assert response.context["is_default"] is True


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?moved=true", {"Slipped", "New", "Back", "Won", "Pulled"}),
        ("?moved=false", {"Last week", "Quiet"}),
        ("?moved=true&since=2026-12-02", {"Back", "Won", "Pulled"}),
        ("?slipped=true", {"Slipped"}),
        ("?slipped=true&since=2026-11-27", {"Slipped", "Last week"}),
        ("?slipped=false&moved=true", {"New", "Back", "Won", "Pulled"}),
        ("?pushed=1", {"Slipped", "Last week", "Back"}),
        ("?pushed=2", set()),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_moved_slipped_and_pushed_filters(
    manager_client: Client, query: str, expected: set[str]
) -> None:
    _pipeline()
    assert set(_rows(manager_client, query + "&outcome=open&outcome=won")) == expected


@time_machine.travel(NOW, tick=False)
def test_slipped_since_a_day_reads_the_quarter_the_date_had_then(manager_client: Client) -> None:
    deals = _pipeline()
    # Pushed within Q1 only this week: it slipped last week, not since Monday.
    _change(deals["last_week"], _at(date(2026, 12, 1)), closing_date=date(2027, 2, 10))
    assert set(_rows(manager_client, "?slipped=true")) == {"Slipped"}
    assert set(_rows(manager_client, "?slipped=true&since=2026-11-27")) == {"Slipped", "Last week"}
    # Pulled back into Q4 this week: it left Q4 last week and is back, so no slip since then.
    _change(deals["last_week"], _at(date(2026, 12, 2)), closing_date=date(2026, 12, 30))
    assert set(_rows(manager_client, "?slipped=true&since=2026-11-27")) == {"Slipped"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?since=2026-12-04", "up to today"),
        ("?since=someday", "Enter a valid date"),
        ("?since=1999-12-31", "Enter a date from"),
        ("?pushed=0", "greater than or equal to 1"),
        ("?pushed=lots", "whole number"),
        ("?moved=maybe", "Use true or false"),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_bad_changes_filters_are_clear_400s(
    manager_client: Client, query: str, message: str
) -> None:
    response = manager_client.get(reverse("board") + query)
    assert response.status_code == 400
    assert message in response.content.decode()
    export = manager_client.get(reverse("board_export_csv") + query)
    assert export.status_code == 400


@time_machine.travel(NOW, tick=False)
def test_columns_push_count_days_in_stage_and_age(manager_client: Client) -> None:
    deals = _pipeline()
    _change(deals["quiet"], _at(date(2026, 12, 1)), stage="Negotiation")
    rows = _rows(manager_client)
    quiet = rows["Quiet"]
    assert quiet.days_in_stage == 2  # Tuesday to Thursday
    assert _codes(quiet) == ["stage_moved"]
    assert rows["Slipped"].closing_date_push_count == 1
    assert rows["Slipped"].age_days == (date(2026, 12, 3) - date(2026, 9, 1)).days
    assert rows["New"].age_days == 2
    # A deal first stored this week never "moved stage" by being stored.
    assert "stage_moved" not in _codes(rows["New"])


def _queries(client: Client, query: str) -> int:
    cache.clear()
    client.get(reverse("board") + query)
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("board") + query).status_code == 200
    return len(captured)


@pytest.mark.parametrize("query", ["", "?moved=true&slipped=false&pushed=1", "?since=2026-11-01"])
@time_machine.travel(NOW, tick=False)
def test_query_count_with_changes_is_the_same_for_5_and_50_rows(
    manager_client: Client, query: str
) -> None:
    def moving_deals(count: int) -> None:
        for index in range(count):
            opportunity = deal(name=f"Deal {index}", closing=date(2026, 12, 20))
            _change(opportunity, _at(date(2026, 12, 1)), closing_date=date(2027, 1, 9))
            _change(opportunity, _at(date(2026, 12, 2)), amount=Decimal("2000.00"))

    moving_deals(5)
    few = _queries(manager_client, query)
    moving_deals(45)
    assert _queries(manager_client, query) == few
    # ...and the markers are there, so the count measured them.
    assert all(_codes(row) for row in _rows(manager_client, query).values())


def _csv(client: Client, query: str) -> list[dict[str, str]]:
    response = client.get(reverse("board_export_csv") + query + "&bom=0")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return list(csv.DictReader(io.StringIO(body)))


@pytest.mark.parametrize(
    "query", ["?moved=true", "?slipped=true", "?pushed=1&sort=name", "?since=2026-12-02&moved=1"]
)
@time_machine.travel(NOW, tick=False)
def test_exports_match_the_board_exactly(manager_client: Client, query: str) -> None:
    _pipeline()
    query = query.replace("moved=1", "moved=true")
    board = manager_client.get(reverse("board") + query)
    assert board.status_code == 200
    names = [row.name for row in board.context["page"].object_list]
    rows = _csv(manager_client, query)
    assert [row["name"] for row in rows] == names
    by_name = {row["name"]: row for row in rows}
    for row in board.context["page"].object_list:
        exported = by_name[row.name]
        assert exported["changes"] == row.moves.summary()
        assert exported["closing_date_push_count"] == str(row.closing_date_push_count)
        assert exported["days_in_stage"] == str(row.days_in_stage)
        assert exported["age_days"] == str(row.age_days)
    if "Slipped" in by_name and "since" not in query:
        slipped = by_name["Slipped"]
        assert (slipped["amount_change_sgd"], slipped["closing_date_moved_days"]) == (
            "500.00",
            "26",
        )
        assert slipped["changes_since"] == MONDAY.isoformat()


@time_machine.travel(NOW, tick=False)
def test_api_list_takes_the_same_filters(manager_client: Client) -> None:
    _pipeline()
    url = reverse("api:opportunity-list")
    for query, expected in [
        ("?slipped=true", {"Slipped"}),
        ("?moved=true&since=2026-12-02", {"Back", "Won", "Pulled"}),
        ("?pushed=1", {"Slipped", "Last week", "Back"}),
    ]:
        response = manager_client.get(url + query)
        assert response.status_code == 200, response.content
        assert {item["name"] for item in response.json()["results"]} == expected
    bad = manager_client.get(url + "?since=2030-01-01")
    assert bad.status_code == 400
    assert "since" in bad.json()["error"]["details"]


def test_the_default_day_is_monday_in_singapore(manager_client: Client) -> None:
    # Sunday 23:30 UTC is already Monday 07:30 in Singapore: the week has just begun.
    with time_machine.travel(datetime(2026, 12, 6, 23, 30, tzinfo=UTC), tick=False):
        from opportunities.changes_since import default_since

        assert default_since() == date(2026, 12, 7)
        assert timezone.localdate() == date(2026, 12, 7)


@time_machine.travel(NOW, tick=False)
def test_lost_deals_show_lost(manager_client: Client) -> None:
    lost = deal(name="Gone", closing=date(2026, 12, 30), health=HealthStatus.WARNING)
    _created(lost, _at(date(2026, 9, 1)))
    _change(lost, _at(date(2026, 12, 1)), outcome=Outcome.LOST)
    rows = _rows(manager_client, "?outcome=lost&moved=true")
    assert _codes(rows["Gone"]) == ["lost"]
