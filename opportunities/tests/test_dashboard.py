"""The dashboard: every figure and bar links to the board showing exactly the deals it sums."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from opportunities.models import HealthStatus, Opportunity, Outcome, PipelineSnapshot
from opportunities.tests.screens import deal, mixed_pipeline

pytestmark = pytest.mark.django_db


def _board(client: Client, url: str) -> tuple[int, Decimal, set[int]]:
    """What the board shows at `url`: how many deals, their SGD total, and the deals' ids."""
    cache.clear()  # two figures may share a board: read it, not the page kept for the first
    response = client.get(url)
    assert response.status_code == 200, url
    context = response.context
    total = sum((group["sgd"] for group in context["groups"]), Decimal(0))
    ids = {row.pk for row in context["page"].object_list}
    return context["total"], total, ids


def _sgd(deals: Any) -> Decimal:
    return sum((d.amount_sgd or Decimal(0) for d in deals), Decimal(0))


def test_each_kpi_links_to_exactly_the_deals_it_sums(manager_client: Client) -> None:
    deals = mixed_pipeline()
    response = manager_client.get(reverse("home"))
    summary, links = response.context["summary"], response.context["links"]
    today = timezone.localdate()
    quarter = summary.quarter
    open_deals = [d for d in deals if d.outcome == Outcome.OPEN]
    in_quarter = [d for d in deals if quarter[0] <= d.closing_date <= quarter[1]]
    won_quarter = [d for d in in_quarter if d.outcome == Outcome.WON]
    danger = [d for d in open_deals if d.health_status == HealthStatus.DANGER]
    delivery_risk = [
        d for d in deals if d.outcome == Outcome.WON and d.health_status == HealthStatus.DANGER
    ]
    closed = [d for d in in_quarter if d.outcome != Outcome.OPEN]
    not_converted = [d for d in deals if d.amount is not None and d.amount_sgd is None]
    expected = {
        "open": (open_deals, summary.open_pipeline_sgd),
        "won_quarter": (won_quarter, summary.won_this_quarter_sgd),
        "danger": (danger, summary.danger_sgd),
        "delivery_risk": (delivery_risk, summary.delivery_risk_sgd),
        "won": (won_quarter, None),
        "closed": (closed, None),
        "not_converted": (not_converted, Decimal(0)),
    }
    assert today >= quarter[0]
    for key, (wanted, figure) in expected.items():
        count, total, ids = _board(manager_client, links[key])
        assert ids == {d.pk for d in wanted}, key
        assert count == len(wanted), key
        assert total == _sgd(wanted), key
        if figure is not None:
            assert total == figure, key
    assert summary.danger_count == len(danger)
    assert summary.delivery_risk_count == len(delivery_risk) == 1
    assert summary.not_convertible_count == len(not_converted)
    average = _sgd(won_quarter) / len(won_quarter)
    assert summary.average_deal_sgd == average.quantize(Decimal("0.01"))


def test_each_bar_links_to_exactly_its_open_deals(manager_client: Client) -> None:
    deals = mixed_pipeline()
    charts = manager_client.get(reverse("home")).context["charts"]
    assert [chart["dimension"] for chart in charts] == [
        "phase",
        "health",
        "territory",
        "service_line",
    ]
    field = {
        "phase": "phase",
        "health": "health_status",
        "territory": "territory",
        "service_line": "service_line",
    }
    for chart in charts:
        for bar in chart["bars"]:
            wanted = [
                d
                for d in deals
                if d.outcome == Outcome.OPEN
                and str(getattr(d, field[chart["dimension"]])) == bar.bucket.value
            ]
            count, total, ids = _board(manager_client, bar.url)
            assert (count, ids) == (len(wanted), {d.pk for d in wanted}), bar.label
            assert count == bar.bucket.deal_count, bar.label
            assert total == bar.bucket.amount_sgd == _sgd(wanted), bar.label
            assert bar.bucket.not_converted == sum(d.amount_sgd is None for d in wanted)
            assert bar.url in chart["data"]["links"]


def test_health_bars_come_worst_first_and_territories_biggest_first(manager_client: Client) -> None:
    mixed_pipeline()
    charts = {c["dimension"]: c for c in manager_client.get(reverse("home")).context["charts"]}
    assert [b.bucket.value for b in charts["health"]["bars"]] == [
        "danger",
        "warning",
        "success",
        "neutral",
    ]
    assert [b.bucket.value for b in charts["phase"]["bars"]] == ["1", "2", "3"]
    assert [b.bucket.value for b in charts["territory"]["bars"]] == [
        "Singapore",
        "Malaysia",
        "India",
    ]


def test_a_blank_territory_is_shown_but_not_linked(manager_client: Client) -> None:
    deal(territory="", sgd="500.00")
    charts = {c["dimension"]: c for c in manager_client.get(reverse("home")).context["charts"]}
    (bar,) = charts["territory"]["bars"]
    assert (bar.label, bar.url) == ("No territory", None)


def test_abbreviated_figures_carry_the_exact_value(manager_client: Client) -> None:
    deal(sgd="1234567.89")
    content = manager_client.get(reverse("home")).content.decode()
    assert 'title="S$1,234,567.89"' in content
    assert (
        '<span aria-hidden="true">S$1.2M</span><span class="sr-only">S$1,234,567.89</span>'
        in content
    )


def test_charts_have_a_title_a_data_block_and_a_table(manager_client: Client) -> None:
    mixed_pipeline()
    content = manager_client.get(reverse("home")).content.decode()
    for dimension in ("phase", "health", "territory", "service_line"):
        assert f'<script id="chart-{dimension}-data" type="application/json">' in content
        assert f'data-chart="chart-{dimension}-data"' in content
    assert content.count("<caption") >= 4
    assert "<script>" not in content  # no inline script: only JSON data blocks
    assert 'style="' not in content


def test_trend_reads_the_daily_snapshots(manager_client: Client) -> None:
    today = timezone.localdate()
    for offset, amount in ((1, "100.00"), (0, "250.00")):
        PipelineSnapshot.objects.create(
            day=today - timedelta(days=offset),
            dimension="health",
            bucket="danger",
            deal_count=2,
            amount_sgd=Decimal(amount),
            weighted_sgd=Decimal(0),
            source="live",
        )
    trend = manager_client.get(reverse("home")).context["trend"]
    danger = next(s for s in trend["chart"]["series"] if s["health"] == "danger")
    assert danger["values"] == [100.0, 250.0]
    assert trend["table"][0]["day"] == today
    assert trend["table"][0]["total"] == Decimal("250.00")


def test_the_page_is_drawn_once_per_data_version(manager_client: Client) -> None:
    from opportunities.data_version import deals_changed

    today = timezone.localdate()
    snapshot = PipelineSnapshot.objects.create(
        day=today,
        dimension="health",
        bucket="danger",
        deal_count=2,
        amount_sgd=Decimal("250.00"),
        weighted_sgd=Decimal(0),
        source="live",
    )

    def table() -> str:
        return manager_client.get(reverse("home")).content.decode()

    assert "S$250.00" in table()
    PipelineSnapshot.objects.filter(pk=snapshot.pk).update(amount_sgd=Decimal("975.00"))
    assert "S$250.00" in table()  # drawn before: the same page for 30 s at most
    deals_changed()
    assert "S$975.00" in table()
    assert "2 deals" in table()


def test_empty_dashboard_says_why(manager_client: Client) -> None:
    content = manager_client.get(reverse("home")).content.decode()
    assert "No open deals" in content
    assert "No snapshots yet" in content


def _queries(client: Client, url: str) -> int:
    cache.clear()  # figures are cached: measure the reads that compute them
    client.get(url)  # warm the session, the role and the cached rates
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_dashboard_queries_do_not_grow_with_deals(manager_client: Client) -> None:
    for _ in range(5):
        deal(territory="T1")
    few = _queries(manager_client, reverse("home"))
    for index in range(45):
        deal(territory=f"T{index}", service_line=f"S{index}", health=HealthStatus.DANGER)
    assert _queries(manager_client, reverse("home")) == few
    assert Opportunity.objects.count() == 50


def test_figures_are_cached_until_deals_change_here_or_a_sync_ends(
    manager_client: Client,
) -> None:
    from sync.models import SyncKind, SyncTrigger
    from sync.services import sync_run_finish, sync_run_start

    edited = deal(sgd="100.00", stage="Qualification")

    def open_pipeline() -> Decimal:
        content = manager_client.get(reverse("home")).content.decode()
        figure = re.search(
            r'Open pipeline</span>\s*<span class="kpi-value">'
            r'<span class="figure" title="S\$([\d,.]+)"',
            content,
        )
        assert figure, content
        return Decimal(figure[1].replace(",", ""))

    assert open_pipeline() == Decimal("100.00")
    deal(sgd="50.00")  # written behind the services' back (a shell, say)
    assert open_pipeline() == Decimal("100.00")  # at most FIGURES_SECONDS old
    form = {
        "stage": "Qualification",
        "closing_date": str(edited.closing_date),
        "currency": "SGD",
        "amount": "100.00",
        "probability": "35",
    }
    assert manager_client.post(reverse("deal", args=[edited.pk]), form).status_code == 302
    assert open_pipeline() == Decimal("150.00")
    deal(sgd="25.00")
    run = sync_run_start(kind=SyncKind.INCREMENTAL, trigger=SyncTrigger.COMMAND)
    sync_run_finish(run, api_calls=0)
    assert open_pipeline() == Decimal("175.00")


def test_the_data_version_survives_a_cleared_cache() -> None:
    from django.core.cache import cache

    from opportunities.data_version import data_version, deals_changed

    cache.clear()
    deals_changed()  # no version stored yet: starts one
    first = data_version()
    deals_changed()
    assert data_version() == first + 1
