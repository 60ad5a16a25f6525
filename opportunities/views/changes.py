"""What changed: the change events of a period, grouped by kind, each linking to its deal."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from opportunities.access import changes_visible_to
from opportunities.models import ChangeEvent, ChangeKind
from opportunities.views.paging import CountedPaginator
from pipeline_pulse.dates import month_bounds, week_bounds
from pipeline_pulse.web.fragments import render_page

PERIODS = (
    ("this_week", "This week"),
    ("last_week", "Last week"),
    ("this_month", "This month"),
    ("last_30_days", "Last 30 days"),
    ("custom", "Custom dates"),
)
# The order a sales leader reads them in: what came in and closed, then what moved.
KIND_ORDER = (
    ChangeKind.NEW,
    ChangeKind.WON,
    ChangeKind.LOST,
    ChangeKind.REOPENED,
    ChangeKind.AMOUNT_UP,
    ChangeKind.AMOUNT_DOWN,
    ChangeKind.CURRENCY_CHANGED,
    ChangeKind.CLOSING_DATE_PUSHED,
    ChangeKind.CLOSING_DATE_PULLED_IN,
    ChangeKind.PHASE_FORWARD,
    ChangeKind.PHASE_BACKWARD,
)
# Kinds whose news is bad for the forecast: shown with the Warning/Danger colour.
BAD_KINDS = {
    ChangeKind.LOST,
    ChangeKind.AMOUNT_DOWN,
    ChangeKind.CLOSING_DATE_PUSHED,
    ChangeKind.PHASE_BACKWARD,
}
EVENTS_PER_KIND = 8
PAGE_SIZE = 50
MAX_DAYS = 366


class PeriodForm(forms.Form):
    period = forms.ChoiceField(choices=PERIODS, required=False)
    start = forms.DateField(required=False, label="From")
    end = forms.DateField(required=False, label="To")
    kind = forms.ChoiceField(choices=[("", "Every kind"), *ChangeKind.choices], required=False)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("period") == "custom":
            start, end = cleaned.get("start"), cleaned.get("end")
            if not start:
                self.add_error("start", "Enter the first day of the period.")
            if not end:
                self.add_error("end", "Enter the last day of the period.")
            if start and end and end < start:
                self.add_error("end", "The last day is before the first.")
            elif start and end and (end - start).days >= MAX_DAYS:
                self.add_error("end", f"Choose at most {MAX_DAYS} days.")
        return cleaned

    def bounds(self, today: date) -> tuple[date, date]:
        """The first and last Singapore day of the chosen period (default: this week)."""
        period = self.cleaned_data.get("period") or "this_week"
        if period == "custom":
            return self.cleaned_data["start"], self.cleaned_data["end"]
        if period == "last_week":
            monday, sunday = week_bounds(today - timedelta(days=7))
            return monday, sunday
        if period == "this_month":
            return month_bounds(today)[0], today
        if period == "last_30_days":
            return today - timedelta(days=29), today
        return week_bounds(today)[0], today


def _kind_sections(events: Any, totals: dict[str, tuple[int, Decimal]]) -> list[dict[str, Any]]:
    by_kind: dict[str, list[ChangeEvent]] = {}
    for event in events:
        by_kind.setdefault(event.kind, []).append(event)
    kinds = [*KIND_ORDER, *sorted(set(totals) - set(KIND_ORDER))]
    return [
        {
            "kind": kind,
            "label": ChangeKind(kind).label if kind in ChangeKind.values else kind,
            "count": totals.get(kind, (0, Decimal(0)))[0],
            "sgd": totals.get(kind, (0, Decimal(0)))[1],
            "bad": kind in BAD_KINDS,
            "events": by_kind.get(kind, []),
        }
        for kind in kinds
    ]


@vary_on_headers("HX-Request")  # the page, or its fragment to htmx
@require_GET
def changes(request: HttpRequest) -> HttpResponse:
    """Change events of the deals the login sees, in a period (default: this week so far)."""
    form = PeriodForm(request.GET)
    today = timezone.localdate()
    context: dict[str, Any] = {"form": form, "periods": PERIODS, "kinds": KIND_ORDER}
    if not form.is_valid():
        context.update(start=None, end=None, sections=[], page=None)
        return render_page(
            request, "opportunities/changes.html", context, fragment="changes", status=400
        )
    start, end = form.bounds(today)
    events = (
        changes_visible_to(request.user)
        .between(start, end)
        .select_related("opportunity__account", "opportunity__owner")
    )
    kind = form.cleaned_data.get("kind")
    totals = events.totals_by_kind()
    context.update(
        start=start,
        end=end,
        period=form.cleaned_data.get("period") or "this_week",
        kind=kind,
        total_events=sum(count for count, _ in totals.values()),
    )
    if kind:
        # One kind, every event, 50 a page.
        listed = events.filter(kind=kind).order_by("-occurred_at", "-id")
        count = totals.get(kind, (0, Decimal(0)))[0]
        paginator = CountedPaginator(listed, PAGE_SIZE, count=count)
        context.update(
            page=paginator.get_page(request.GET.get("page")),
            sections=[s for s in _kind_sections([], totals) if s["kind"] == kind],
        )
    else:
        latest = events.latest_per_kind(EVENTS_PER_KIND)
        context.update(page=None, sections=_kind_sections(latest, totals))
    context["events_per_kind"] = EVENTS_PER_KIND
    return render_page(request, "opportunities/changes.html", context, fragment="changes")
