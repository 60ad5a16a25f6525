"""Pipeline review pages: a quarter's forecast by category (with the FX what-if) and the
waterfall of its open pipeline, each figure opening the deals behind it; and their downloads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from currency.conversion import sgd_converter
from opportunities.access import deals_visible_to
from opportunities.exports import CellKind, Column, table_csv
from opportunities.exports_xlsx import XLSX_CONTENT_TYPE, table_xlsx_pieces
from opportunities.filters import DealFilter
from opportunities.models import ForecastCategory, OpportunityQuerySet
from opportunities.pipeline_review import (
    CATEGORY_ORDER,
    REVIEW_PARAMS,
    STEP_LABELS,
    STEPS,
    Forecast,
    ForecastRow,
    ReviewForm,
    Waterfall,
    deals_of,
    forecast,
    fx_what_if,
    quarter_code,
    quarter_label,
    waterfall,
)
from opportunities.views.figures import cached_figures, cached_page, login_scope
from opportunities.views.links import board_url
from opportunities.views.paging import CountedPaginator
from pipeline_pulse.dates import quarter_bounds
from pipeline_pulse.web.fragments import render_page

STEP_DEALS_PAGE = 50
# The bridge's steps that take away from the pipeline when positive amounts leave it.
OUTFLOWS = {"decreased", "pushed_out", "won", "lost", "deleted"}


@dataclass(frozen=True, slots=True)
class Review:
    """A request read: the review's parameters and the deals they cover, or the errors."""

    form: ReviewForm
    filters: DealFilter | None
    filter_params: QueryDict

    @property
    def errors(self) -> list[tuple[str, str]]:
        """(parameter, message) for every bad parameter, the board filters' included."""
        found = [(name, str(m)) for name, messages in self.form.errors.items() for m in messages]
        if self.filters is not None and not self.filters.is_valid():
            found += [
                (name, str(m)) for name, messages in self.filters.errors.items() for m in messages
            ]
        return found


def read_review(request: Any, *, include_deleted: bool = False) -> tuple[Review, Any]:
    """The review's parameters and the login's deals through the board's filters; the deals
    are None when a parameter is bad."""
    params = request.GET
    form = ReviewForm(params, today=timezone.localdate())
    filter_params = params.copy()
    for name in REVIEW_PARAMS:
        filter_params.pop(name, None)
    filter_params.pop("sort", None)
    deals = deals_visible_to(request.user, include_deleted=include_deleted)
    filters = DealFilter(filter_params, queryset=deals)
    review = Review(form, filters, filter_params)
    if not form.is_valid() or not filters.is_valid():
        return review, None
    filtered: OpportunityQuerySet = filters.qs.order_by()
    return review, filtered


def _filter_fields(review: Review) -> list[tuple[str, str]]:
    """The board filters in force, as hidden fields: a form that changes the quarter keeps
    them."""
    params = review.filter_params
    return [(key, value) for key in params for value in params.getlist(key)]


# --- Forecast ------------------------------------------------------------------------------------


def _cell_url(review: Review, quarter: tuple[date, date], category: str, **more: str) -> str:
    params: dict[str, Any] = {
        key: review.filter_params.getlist(key) for key in review.filter_params
    }
    params.update(
        closing="custom",
        closing_from=quarter[0].isoformat(),
        closing_to=quarter[1].isoformat(),
        **more,
    )
    if category:
        params["forecast_category"] = category
    return board_url(**params)


def _row_view(
    review: Review, quarter: tuple[date, date], row: ForecastRow, dimension: str
) -> dict[str, Any]:
    reachable = dimension == "" or row.key != ""
    extra = {dimension: row.key} if dimension else {}
    return {
        "label": row.label,
        "cells": [
            {
                "category": category,
                "cell": row.cells[category],
                "url": _cell_url(review, quarter, category.value, **extra) if reachable else None,
            }
            for category in CATEGORY_ORDER
        ],
        "total": row.total,
        "url": _cell_url(review, quarter, "", **extra) if reachable else None,
    }


def _quarter_choices(today: date, chosen: tuple[date, date]) -> list[tuple[str, str]]:
    """Last year's quarters to next year's, and the chosen one wherever it is."""
    quarters = {quarter_bounds(today, offset=offset)[0] for offset in range(-4, 5)}
    quarters.add(chosen[0])
    return [(quarter_code(first), quarter_label(first)) for first in sorted(quarters)]


def _forecast_context(request: HttpRequest) -> tuple[dict[str, Any], int]:
    today = timezone.localdate()
    review, deals = read_review(request)
    context: dict[str, Any] = {
        "form": review.form,
        "errors": review.errors,
        "filter_fields": _filter_fields(review),
    }
    context["currencies"] = sorted(deals_visible_to(request.user).open().currencies() - {"SGD", ""})
    if deals is None:
        context["quarter_choices"] = _quarter_choices(today, (today, today))
        return context, 400
    quarter = review.form.cleaned_data["quarter"]
    result = forecast(deals, quarter)
    context.update(
        quarter=quarter,
        quarter_code=quarter_code(quarter[0]),
        quarter_label=quarter_label(quarter[0]),
        quarter_choices=_quarter_choices(today, quarter),
        categories=CATEGORY_ORDER,
        forecast=result,
        totals=_row_view(review, quarter, result.totals, ""),
        by_owner=[_row_view(review, quarter, row, "owner") for row in result.by_owner],
        by_territory=[_row_view(review, quarter, row, "territory") for row in result.by_territory],
        not_converted_url=_cell_url(review, quarter, "", converted="false"),
        filtered=bool(review.filter_params),
        export_query=request.GET.urlencode(),
    )
    currency = review.form.cleaned_data.get("fx_currency")
    percent = review.form.cleaned_data.get("fx_percent")
    if currency and percent is not None:
        context["what_if"] = fx_what_if(
            deals, quarter, currency=currency, percent=percent, converter=sgd_converter()
        )
    return context, 200


@vary_on_headers("HX-Request")  # the page, or its fragment to htmx
@require_GET
def forecast_page(request: HttpRequest) -> HttpResponse:
    """A quarter's deals by forecast category, owner and territory, and the FX what-if.

    A whole quarter's deals grouped three ways, the same for every login that sees the same
    deals at the same address: drawn once per data version, like the dashboard."""
    return cached_page(
        request,
        "opportunities/forecast.html",
        lambda: _forecast_context(request),
        scope=login_scope(request),
        content="page",
        fragment="forecast",
    )


# --- Waterfall -----------------------------------------------------------------------------------


def bridge(result: Waterfall) -> list[dict[str, Any]]:
    """The bridge chart's rows: start, each step, unexplained (when any), end; each with the
    bar's left edge and width in percent of the chart, and its kind for colour."""
    rows: list[tuple[str, str, Decimal, Decimal, Decimal]] = []
    running = result.start_open_sgd
    rows.append(("start", "Open at the start", ZERO_AMOUNT, running, running))
    for step in STEPS:
        amount = result.steps[step]
        rows.append((step, STEP_LABELS[step], running, running + amount, amount))
        running += amount
    if result.unexplained_sgd:
        amount = result.unexplained_sgd
        rows.append(("unexplained", STEP_LABELS["unexplained"], running, running + amount, amount))
        running += amount
    rows.append(("end", "Open at the end", ZERO_AMOUNT, result.end_open_sgd, result.end_open_sgd))
    points = [value for row in rows for value in (row[2], row[3])]
    low, high = min(ZERO_AMOUNT, *points), max(ZERO_AMOUNT, *points)
    span = (high - low) or Decimal(1)
    view = []
    for key, label, begin, finish, amount in rows:
        left, right = sorted((begin, finish))
        total = key in ("start", "end")
        view.append(
            {
                "key": key,
                "label": label,
                "amount": amount,
                "x": float((left - low) / span * 100),
                "width": max(float((right - left) / span * 100), 0.4 if amount else 0.0),
                "kind": "total" if total else ("up" if amount > 0 else "down"),
                "deals": len(result.deals.get(key, {})) if not total else None,
            }
        )
    return view


ZERO_AMOUNT = Decimal("0.00")


def _waterfall_context(request: HttpRequest) -> tuple[dict[str, Any], int]:
    today = timezone.localdate()
    review, deals = read_review(request, include_deleted=True)
    context: dict[str, Any] = {
        "form": review.form,
        "errors": review.errors,
        "filter_fields": _filter_fields(review),
    }
    if deals is None:
        context["quarter_choices"] = _quarter_choices(today, (today, today))
        return context, 400
    data = review.form.cleaned_data
    quarter, start, end = data["quarter"], data["start"], data["end"]
    # The ledger of every deal in the quarter between two days: once per data version for
    # everyone who sees the same deals through the same filters (a step's page reads it too).
    result = cached_figures(
        "waterfall",
        login_scope(request),
        lambda: waterfall(deals, quarter, start, end),
        detail=f"{quarter_code(quarter[0])}:{start}:{end}?{review.filter_params.urlencode()}",
    )
    step = data.get("step") or ""
    context.update(
        quarter=quarter,
        quarter_code=quarter_code(quarter[0]),
        quarter_label=quarter_label(quarter[0]),
        quarter_choices=_quarter_choices(today, quarter),
        start=start,
        end=end,
        waterfall=result,
        bridge=bridge(result),
        step=step,
        step_label=STEP_LABELS.get(step, ""),
        export_query=request.GET.urlencode(),
        filtered=bool(review.filter_params),
    )
    if step:
        amounts = result.deals.get(step, {})
        ordered = sorted(amounts.items(), key=lambda item: (-abs(item[1]), item[0]))
        page = CountedPaginator(ordered, STEP_DEALS_PAGE, count=len(ordered)).get_page(
            request.GET.get("page")
        )
        listed = deals_of(deal_id for deal_id, _ in page.object_list)
        context["step_page"] = page
        context["step_rows"] = [
            {"deal": listed.get(deal_id), "id": deal_id, "amount": amount}
            for deal_id, amount in page.object_list
        ]
        context["step_total"] = sum(amounts.values(), ZERO_AMOUNT)
    return context, 200


@vary_on_headers("HX-Request")
@require_GET
def waterfall_page(request: HttpRequest) -> HttpResponse:
    """How the quarter's open pipeline moved between two days, step by step, from history."""
    context, status = _waterfall_context(request)
    return render_page(
        request, "opportunities/waterfall.html", context, fragment="waterfall", status=status
    )


# --- Downloads -----------------------------------------------------------------------------------

FORECAST_COLUMNS = (
    Column("group", "", label="Group"),
    Column("name", "", label="Owner or territory"),
    *(
        Column(f"{category.value}_sgd", "", CellKind.MONEY, label=f"{category.label} (SGD)")
        for category in ForecastCategory
    ),
    Column("total_sgd", "", CellKind.MONEY, label="Total (SGD)"),
    Column("deals", "", CellKind.NUMBER, label="Deals"),
    Column("not_converted", "", CellKind.NUMBER, label="Not converted to SGD"),
)
WATERFALL_COLUMNS = (
    Column("step", "", label="Step"),
    Column("sgd", "", CellKind.MONEY, label="SGD"),
    Column("deals", "", CellKind.NUMBER, label="Deals"),
    Column("deal_zoho_id", "", label="Deal's Zoho id"),
    Column("deal", "", label="Deal"),
)


def forecast_rows(result: Forecast) -> list[list[Any]]:
    def row(group: str, item: ForecastRow) -> list[Any]:
        total = item.total
        return [
            group,
            item.label,
            *(item.cells[category].amount_sgd for category in CATEGORY_ORDER),
            total.amount_sgd,
            total.deals,
            total.not_converted,
        ]

    return [
        row(f"Total {quarter_code(result.quarter[0])}", result.totals),
        *(row("Owner", item) for item in result.by_owner),
        *(row("Territory", item) for item in result.by_territory),
    ]


def waterfall_rows(result: Waterfall) -> list[list[Any]]:
    rows: list[list[Any]] = [["Open at the start", result.start_open_sgd, None, None, None]]
    for step in (*STEPS, "unexplained"):
        if step == "unexplained" and not result.deals.get(step):
            continue
        amount = result.unexplained_sgd if step == "unexplained" else result.steps[step]
        rows.append([STEP_LABELS[step], amount, len(result.deals.get(step, {})), None, None])
    rows.append(["Open at the end", result.end_open_sgd, None, None, None])
    for step in (*STEPS, "unexplained"):
        amounts = result.deals.get(step, {})
        listed = deals_of(amounts)
        for deal_id, amount in sorted(amounts.items(), key=lambda i: (-abs(i[1]), i[0])):
            deal = listed.get(deal_id)
            rows.append(
                [
                    STEP_LABELS[step],
                    amount,
                    None,
                    deal.zoho_id if deal else "",
                    deal.name if deal else "",
                ]
            )
    return rows


def _download(body: Any, *, name: str, extension: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response


def _bad_request(review: Review) -> HttpResponse:
    lines = "".join(f"{name}: {message}\n" for name, message in review.errors)
    return HttpResponse(
        f"Nothing was exported:\n{lines}", status=400, content_type="text/plain; charset=utf-8"
    )


def _export(request: HttpRequest, what: str, extension: str) -> HttpResponse:
    review, deals = read_review(request, include_deleted=what == "waterfall")
    if deals is None:
        return _bad_request(review)
    data = review.form.cleaned_data
    quarter = data["quarter"]
    if what == "forecast":
        columns, rows = FORECAST_COLUMNS, forecast_rows(forecast(deals, quarter))
        name = f"pipeline-pulse-forecast-{quarter_code(quarter[0])}"
    else:
        result = waterfall(deals, quarter, data["start"], data["end"])
        columns, rows = WATERFALL_COLUMNS, waterfall_rows(result)
        name = (
            f"pipeline-pulse-waterfall-{quarter_code(quarter[0])}-"
            f"{data['start']:%Y-%m-%d}-{data['end']:%Y-%m-%d}"
        )
    if extension == "csv":
        return _download(
            table_csv(columns, rows),
            name=name,
            extension="csv",
            content_type="text/csv; charset=utf-8",
        )
    return _download(
        b"".join(table_xlsx_pieces(columns, rows)),
        name=name,
        extension="xlsx",
        content_type=XLSX_CONTENT_TYPE,
    )


@require_GET
def forecast_export_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, "forecast", "csv")


@require_GET
def forecast_export_xlsx(request: HttpRequest) -> HttpResponse:
    return _export(request, "forecast", "xlsx")


@require_GET
def waterfall_export_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, "waterfall", "csv")


@require_GET
def waterfall_export_xlsx(request: HttpRequest) -> HttpResponse:
    return _export(request, "waterfall", "xlsx")


__all__ = [
    "bridge",
    "forecast_export_csv",
    "forecast_export_xlsx",
    "forecast_page",
    "forecast_rows",
    "waterfall_export_csv",
    "waterfall_export_xlsx",
    "waterfall_page",
    "waterfall_rows",
]
