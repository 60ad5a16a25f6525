"""Figures that sit side by side on the dashboard count the same deals, and each opens a board
whose count and SGD total are the figure's, to the cent, for any quarter chosen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from opportunities.models import HealthStatus, Opportunity, Outcome
from opportunities.roles import Role
from opportunities.tests.factories import UserFactory
from opportunities.tests.screens import deal

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 2, 17, 9, 30, tzinfo=ZoneInfo("Asia/Singapore"))  # Q1 2027
CENT = Decimal("0.01")


@pytest.fixture
def manager_client(client: Client, db: None) -> Iterator[Client]:
    """A Manager logged in at NOW: the clock is frozen before the session starts."""
    with time_machine.travel(NOW, tick=False):
        client.force_login(UserFactory.create(role=Role.MANAGER))
        yield client


def _org() -> dict[str, list[Opportunity]]:
    """A mixed org over several quarters, by what each deal should count in."""
    neutral = HealthStatus.NEUTRAL
    danger, warning, success, won, lost = (
        HealthStatus.DANGER,
        HealthStatus.WARNING,
        HealthStatus.SUCCESS,
        Outcome.WON,
        Outcome.LOST,
    )
    return {
        "open_danger": [
            deal(sgd="120000.10", health=danger, probability=40, phase=2),
            deal(sgd="80000.05", health=danger, probability=60, phase=3, closing=date(2027, 1, 5)),
        ],
        "open_other": [
            deal(sgd="55000.00", health=warning, probability=20, phase=2),
            deal(sgd="310000.33", health=success, probability=80, phase=3),
        ],
        # Open and not convertible: counted, left out of the sums.
        "open_not_convertible": [deal(sgd=None, health=danger, probability=50, phase=2)],
        "delivery_risk": [
            deal(sgd="64000.20", outcome=won, health=danger, phase=4, closing=date(2026, 11, 3)),
            deal(sgd="9000.00", outcome=won, health=danger, phase=4, closing=date(2027, 1, 20)),
        ],
        # Won and in Danger but its revenue is recognised: in neither Danger figure.
        "won_recognised_danger": [
            deal(
                sgd="7000.00",
                outcome=won,
                health=danger,
                phase=4,
                closing=date(2026, 8, 1),
                revenue_recognised_on=date(2027, 2, 1),
            )
        ],
        "won_q1": [
            deal(sgd="40000.00", outcome=won, health=success, phase=4, closing=date(2027, 2, 2)),
        ],
        "won_q4": [
            deal(sgd="25000.50", outcome=won, health=success, phase=4, closing=date(2026, 12, 31)),
            deal(sgd="15000.25", outcome=won, health=warning, phase=4, closing=date(2026, 10, 1)),
        ],
        "won_not_convertible_q4": [
            deal(sgd=None, outcome=won, health=success, phase=4, closing=date(2026, 11, 30)),
        ],
        "lost_q1": [
            deal(sgd="5000.00", outcome=lost, health=neutral, closing=date(2027, 1, 2)),
        ],
        "lost_q4": [
            deal(sgd="3000.00", outcome=lost, health=neutral, closing=date(2026, 12, 1)),
            deal(sgd=None, outcome=lost, health=neutral, closing=date(2026, 10, 9)),
        ],
    }


def _sgd(deals: list[Opportunity]) -> Decimal:
    return sum((d.amount_sgd or Decimal(0) for d in deals), Decimal(0)).quantize(CENT)


def _board(client: Client, url: str) -> tuple[int, Decimal, set[int]]:
    """The board at `url`: its count, the SGD total of its groups, and its deals' ids."""
    cache.clear()  # figures sharing a board read the board, not the page kept for the first
    response = client.get(url)
    assert response.status_code == 200, url
    total = sum((group["sgd"] for group in response.context["groups"]), Decimal(0))
    ids = {row.pk for row in response.context["page"].object_list}
    return response.context["total"], total.quantize(CENT), ids


def _dashboard(client: Client, query: str = "") -> Any:
    cache.clear()
    response = client.get(reverse("home") + query)
    assert response.status_code == 200
    return response.context


def test_side_by_side_figures_agree_with_each_other_and_with_their_boards(
    manager_client: Client,
) -> None:
    org = _org()
    context = _dashboard(manager_client)
    summary, links = context["summary"], context["links"]
    health_chart = next(chart for chart in context["charts"] if chart["dimension"] == "health")
    danger_bar = next(bar for bar in health_chart["bars"] if bar.bucket.value == "danger")
    open_deals = org["open_danger"] + org["open_other"] + org["open_not_convertible"]
    open_danger = org["open_danger"] + org["open_not_convertible"]

    # The card and the chart's Danger bar count the same open deals.
    assert summary.danger_count == danger_bar.bucket.deal_count == len(open_danger) == 3
    assert summary.danger_sgd == danger_bar.bucket.amount_sgd == _sgd(open_danger)
    assert links["danger"] == danger_bar.url
    # Won deals awaiting recognition in Danger are a figure of their own.
    assert summary.delivery_risk_count == len(org["delivery_risk"]) == 2
    assert summary.delivery_risk_sgd == _sgd(org["delivery_risk"]) == Decimal("73000.20")

    # This quarter (Q1 2027) by default.
    assert context["quarter_code"] == "2027Q1"
    assert summary.won_this_quarter_sgd == _sgd(org["won_q1"] + [org["delivery_risk"][1]])
    assert summary.win_rate == Decimal("0.6667")  # 2 won, 1 lost closing in Q1
    not_convertible = (
        org["open_not_convertible"]
        + org["won_not_convertible_q4"]
        + [d for d in org["lost_q4"] if d.amount_sgd is None]
    )
    assert summary.not_convertible_count == len(not_convertible) == 3

    figures = {
        "open": (len(open_deals), summary.open_pipeline_sgd),
        "danger": (summary.danger_count, summary.danger_sgd),
        "delivery_risk": (summary.delivery_risk_count, summary.delivery_risk_sgd),
        "won_quarter": (summary.won_quarter_count, summary.won_this_quarter_sgd),
        "won": (summary.won_quarter_count, summary.won_this_quarter_sgd),
        "closed": (summary.closed_quarter_count, None),
        "not_converted": (summary.not_convertible_count, Decimal("0.00")),
    }
    expected_ids = {
        "open": open_deals,
        "danger": open_danger,
        "delivery_risk": org["delivery_risk"],
        "not_converted": not_convertible,
    }
    for key, (count, sgd) in figures.items():
        board_count, board_sgd, ids = _board(manager_client, links[key])
        assert board_count == count, key
        if sgd is not None:
            assert board_sgd == sgd, key
        if key in expected_ids:
            assert ids == {d.pk for d in expected_ids[key]}, key
    # The win rate is the won share of the "closed" board.
    assert summary.win_rate == (
        Decimal(summary.won_quarter_count) / Decimal(summary.closed_quarter_count)
    ).quantize(Decimal("0.0001"), ROUND_HALF_UP)

    # The API's summary says the same as the screen.
    api = manager_client.get("/api/v1/pipeline/summary/").json()
    assert api["danger_count"] == summary.danger_count
    assert api["danger_sgd"] == str(summary.danger_sgd)
    assert api["delivery_risk_sgd"] == str(summary.delivery_risk_sgd)
    assert api["won_this_quarter_sgd"] == str(summary.won_this_quarter_sgd)
    assert api["win_rate"] == str(summary.win_rate)


def test_the_quarter_selector_sets_every_period_figure_and_its_links(
    manager_client: Client,
) -> None:
    org = _org()
    today_figures = _dashboard(manager_client)["summary"]
    context = _dashboard(manager_client, "?quarter=2026Q4")
    summary, links = context["summary"], context["links"]
    won_q4 = org["won_q4"] + org["won_not_convertible_q4"] + [org["delivery_risk"][0]]

    assert summary.quarter == (date(2026, 10, 1), date(2026, 12, 31))
    assert context["quarter_label"] == "Q4 2026"
    assert [q["code"] for q in context["quarters"] if q["selected"]] == ["2026Q4"]
    assert summary.won_this_quarter_sgd == _sgd(won_q4) == Decimal("104000.95")
    assert (summary.won_quarter_count, summary.closed_quarter_count) == (4, 6)
    assert summary.win_rate == Decimal("0.6667")
    # 3 won deals with an SGD amount: the one without is left out of the average.
    assert summary.average_deal_sgd == (_sgd(won_q4) / 3).quantize(CENT, ROUND_HALF_UP)
    # Figures of the moment are the same whichever quarter is shown.
    for name in ("open_pipeline_sgd", "danger_count", "danger_sgd", "delivery_risk_count"):
        assert getattr(summary, name) == getattr(today_figures, name), name

    for key, count, sgd in (
        ("won_quarter", 4, summary.won_this_quarter_sgd),
        ("won", 4, summary.won_this_quarter_sgd),
        ("closed", 6, _sgd(won_q4 + org["lost_q4"])),
    ):
        board_count, board_sgd, _ = _board(manager_client, links[key])
        assert (board_count, board_sgd) == (count, sgd), key

    page = manager_client.get(reverse("home") + "?quarter=2026Q4").content.decode()
    assert "Won in Q4 2026" in page
    assert 'value="2026Q4" selected' in page
    # Refreshed after a sync, the dashboard keeps its quarter.
    assert 'hx-get="/?quarter=2026Q4"' in page


@pytest.mark.parametrize("text", ["2027Q5", "27Q1", "Q1", "2027/Q1", "1999Q4", "x" * 300])
def test_a_quarter_that_is_not_one_is_a_400_with_a_way_out(
    manager_client: Client, text: str
) -> None:
    response = manager_client.get(reverse("home"), {"quarter": text})

    assert response.status_code == 400
    body = response.content.decode()
    assert "is not a quarter" in body
    assert "e.g. 2027Q1" in body or "from 2000Q1 to 2099Q4" in body
    assert f'href="{reverse("home")}"' in body
