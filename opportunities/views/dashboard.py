"""The dashboard: the SGD figures a sales leader reads every morning, each a link to its deals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from opportunities.access import deals_visible_to, sees_every_deal
from opportunities.models import (
    HEALTH_ORDER,
    HealthStatus,
    Outcome,
    Phase,
    PipelineSnapshot,
)
from opportunities.pipeline_review import parse_quarter, quarter_code, quarter_label
from opportunities.selectors import PipelineBucket, open_pipeline_breakdown, pipeline_summary
from opportunities.views.figures import cached_figures, cached_page, login_scope
from opportunities.views.links import board_url, open_board_url
from pipeline_pulse.dates import quarter_bounds
from pipeline_pulse.display import day, sgd, sgd_short

TREND_DAYS = 90
HEADINGS = {
    "phase": "Phase",
    "health": "Health",
    "territory": "Territory",
    "service_line": "Service line",
}
CHART_TITLES = {
    dimension: f"Open pipeline by {heading.lower()}" for dimension, heading in HEADINGS.items()
}
BLANK_LABELS = {"territory": "No territory", "service_line": "No service line"}


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a breakdown chart and the row of the table behind it."""

    label: str
    bucket: PipelineBucket
    url: str | None  # None: the board cannot filter on a blank value
    colour: str  # a CSS class / chart colour key


def _label(dimension: str, value: str) -> str:
    if dimension == "phase":
        return f"{value} · {Phase(int(value)).label}"
    if dimension == "health":
        return str(HealthStatus(value).label)
    return value or BLANK_LABELS[dimension]


def _bars(dimension: str, buckets: list[PipelineBucket]) -> list[Bar]:
    bars = []
    for bucket in buckets:
        url = open_board_url(**{dimension: bucket.value}) if bucket.value else None
        colour = {"health": bucket.value, "phase": f"phase-{bucket.value}"}.get(dimension, "accent")
        bars.append(Bar(_label(dimension, bucket.value), bucket, url, colour))
    return bars


def _chart_data(dimension: str, bars: list[Bar]) -> dict[str, Any]:
    """What static/js/pulse.js draws: geometry as numbers, every text already formatted."""
    return {
        "kind": "bar",
        "dimension": dimension,
        "title": CHART_TITLES[dimension],
        "labels": [bar.label for bar in bars],
        "values": [float(bar.bucket.amount_sgd) for bar in bars],
        "texts": [
            f"{sgd(bar.bucket.amount_sgd)} · {bar.bucket.deal_count:,} deals" for bar in bars
        ],
        "ticks": "sgd",
        "links": [bar.url for bar in bars],
        "colours": [bar.colour for bar in bars],
    }


def _trend(today: Any) -> dict[str, Any] | None:
    """Daily pipeline by health from the snapshots (one query); None when there are none."""
    start = today - timedelta(days=TREND_DAYS - 1)
    rows = (
        PipelineSnapshot.objects.by_health()
        .between(start, today)
        .values_list("day", "bucket", "amount_sgd", "deal_count")
    )
    by_day: dict[Any, dict[str, tuple[Decimal, int]]] = {}
    for snapshot_day, bucket, amount, count in rows:
        by_day.setdefault(snapshot_day, {})[bucket] = (amount, count)
    if not by_day:
        return None
    days = sorted(by_day)
    series = [
        {
            "health": status.value,
            "label": str(status.label),
            "values": [float(by_day[d].get(status, (Decimal(0), 0))[0]) for d in days],
        }
        for status in HEALTH_ORDER
    ]
    table = [
        {
            "day": d,
            "cells": [by_day[d].get(status, (Decimal(0), 0)) for status in HEALTH_ORDER],
            "total": sum((amount for amount, _ in by_day[d].values()), Decimal(0)),
        }
        for d in reversed(days)
    ]
    chart = {
        "kind": "trend",
        "title": f"Pipeline by health, last {TREND_DAYS} days",
        "labels": [day(d) for d in days],
        "series": series,
        "ticks": "sgd",
    }
    return {"chart": chart, "table": table, "first": days[0], "last": days[-1]}


QUARTERS_BACK = 8  # the quarter selector offers this quarter, the 8 before and the next 2
QUARTERS_AHEAD = 2


def _quarter_choices(today: date, chosen: tuple[date, date]) -> list[dict[str, Any]]:
    """The quarter selector's options, newest first; the chosen one is always among them."""
    starts = {
        quarter_bounds(today, offset=offset)[0]
        for offset in range(-QUARTERS_BACK, QUARTERS_AHEAD + 1)
    }
    starts.add(chosen[0])
    return [
        {"code": quarter_code(start), "label": quarter_label(start), "selected": start == chosen[0]}
        for start in sorted(starts, reverse=True)
    ]


@vary_on_headers("HX-Request")  # the page, or its fragment to htmx
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """SGD KPIs and breakdowns over every deal the login may see, drawn once per data version.

    `?quarter=2027Q1` sets the period figures (this quarter by default); anything else is a
    400 that says what a quarter looks like.
    """
    scope = login_scope(request)
    today = timezone.localdate()
    quarter = quarter_bounds(today)
    error = ""
    text = request.GET.get("quarter", "")
    if text.strip():
        try:
            quarter = parse_quarter(text)
        except ValueError as exc:
            error = str(exc)

    def build() -> tuple[dict[str, Any], int]:
        if error:
            return {
                "quarter_error": error,
                "quarter_text": text[:40],
                "quarters": _quarter_choices(today, quarter_bounds(today)),
            }, 400
        return _dashboard_context(request, scope, today=today, quarter=quarter), 200

    return cached_page(
        request,
        "opportunities/dashboard.html",
        build,
        scope=scope,
        content="dashboard",
        fragment="dashboard",
    )


def dashboard_links(quarter: tuple[date, date]) -> dict[str, str]:
    """The board behind each figure of pipeline_summary(…, quarter=quarter)."""
    period = {
        "closing": "custom",
        "closing_from": quarter[0].isoformat(),
        "closing_to": quarter[1].isoformat(),
    }
    return {
        "open": open_board_url(),
        "won_quarter": board_url(outcome=Outcome.WON, **period),
        "danger": open_board_url(health=HealthStatus.DANGER),
        "delivery_risk": board_url(
            outcome=Outcome.WON, health=HealthStatus.DANGER, recognised="false"
        ),
        "closed": board_url(outcome=[Outcome.WON, Outcome.LOST], **period),
        "won": board_url(outcome=Outcome.WON, **period),
        "not_converted": board_url(
            outcome=[Outcome.OPEN, Outcome.WON, Outcome.LOST], converted="false"
        ),
    }


def _dashboard_context(
    request: HttpRequest, scope: str, *, today: date, quarter: tuple[date, date]
) -> dict[str, Any]:
    deals = deals_visible_to(request.user)
    summary = cached_figures(
        "summary",
        scope,
        lambda: pipeline_summary(deals, today=today, quarter=quarter),
        detail=f"{today}/{quarter[0]}",
    )
    breakdown = cached_figures("breakdown", scope, lambda: open_pipeline_breakdown(deals))
    charts = []
    for dimension, buckets in breakdown.items():
        bars = _bars(dimension, buckets)
        charts.append(
            {
                "id": f"chart-{dimension}",
                "data_id": f"chart-{dimension}-data",
                "heading": HEADINGS[dimension],
                "title": CHART_TITLES[dimension],
                "dimension": dimension,
                "bars": bars,
                "data": _chart_data(dimension, bars),
                "total_deals": sum(bar.bucket.deal_count for bar in bars),
            }
        )
    # Snapshots are the whole organisation's totals: only for logins that see every deal.
    sees_everything = sees_every_deal(request.user)
    trend = (
        cached_figures("trend", "all", lambda: _trend(today), detail=str(today))
        if sees_everything
        else None
    )
    is_this_quarter = quarter == quarter_bounds(today)
    return {
        "summary": summary,
        "quarter_label": quarter_label(quarter[0]),
        "quarter_code": quarter_code(quarter[0]),
        "is_this_quarter": is_this_quarter,
        "quarters": _quarter_choices(today, quarter),
        "links": dashboard_links(quarter),
        "charts": charts,
        "trend": trend,
        "trend_hidden_for_role": not sees_everything,
        "danger_short": sgd_short(summary.danger_sgd),
        "health_order": HEALTH_ORDER,
    }
