"""The deal page: every field, the lifecycle, health, the rate used, history, and the edit form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from currency.models import RateSource
from currency.staleness import Staleness, rate_staleness
from opportunities.access import can_edit_deal, deal_for, is_admin
from opportunities.deal_fields import CRM_FIELDS, EDITABLE_FIELDS, FIELDS_BY_NAME, FieldKind
from opportunities.derivation import locked_on
from opportunities.display import crm_value
from opportunities.models import (
    MILESTONE_FIELDS,
    ChangeEvent,
    Conflict,
    ConflictResolution,
    Opportunity,
    Outcome,
    PhaseTransition,
)
from opportunities.services.edits import opportunity_edit
from opportunities.services.writeback import (
    conflict_resolve,
    refused_edit_drop,
    refused_edit_send_again,
)
from opportunities.views.deal_writeback import (
    conflict_rows,
    deal_conflicts,
    local_edits,
    rate_overrides_of,
    waiting_fields,
)
from opportunities.views.figures import cached_figures
from pipeline_pulse.display import plain_number, sgd
from pipeline_pulse.web.fragments import render_page

# The deal page shows its newest changes; a deal months in the pipeline has hundreds, which
# the history page lists a page at a time.
HISTORY_ON_PAGE = 20
HISTORY_PAGE_SIZE = 50


@dataclass(frozen=True)
class CrmFieldRow:
    """One CRM field of the deal as the page lists it."""

    label: str
    value: str
    pending: bool  # changed here, not yet in Zoho


@dataclass(frozen=True)
class Milestone:
    """One realisation step; a date counts once it has come (Singapore)."""

    label: str
    on: date | None
    state: str  # "reached", "planned" or "none"


@dataclass(frozen=True)
class FxDetails:
    """The rate behind the SGD amount, and whether it is fresh, stale, expired or locked."""

    rate: str | None
    as_of: datetime | None
    source: str
    state: str
    state_label: str
    note: str
    locked_on: date | None


@dataclass(frozen=True)
class EditField:
    """One field of the edit form: what it shows and what is wrong with it."""

    name: str
    label: str
    input_type: str
    decimal: bool
    value: str
    errors: list[str]
    pending: bool
    refused: str  # Zoho's reason, while the refused value is still pending
    choices: list[str] | None  # a select's options, in order


def crm_rows(deal: Opportunity) -> list[CrmFieldRow]:
    """Every CRM field of the catalogue, labelled, with its pending flag."""
    return [
        CrmFieldRow(
            label=field.label,
            value=crm_value(deal, field.name),
            pending=field.name in deal.pending_fields,
        )
        for field in CRM_FIELDS
    ]


def milestones(deal: Opportunity, today: date) -> list[Milestone]:
    """The realisation steps in order: proposal, won, PO, kick-off, invoice, payment, revenue."""
    steps: list[tuple[str, date | None]] = []
    for name in MILESTONE_FIELDS:
        steps.append((FIELDS_BY_NAME[name].label, getattr(deal, name)))
        if name == "proposal_submitted_on":
            steps.append(("Won", deal.closing_date if deal.outcome == Outcome.WON else None))
    return [
        Milestone(
            label=label,
            on=on,
            state="none" if on is None else "reached" if on <= today else "planned",
        )
        for label, on in steps
    ]


def fx_details(deal: Opportunity) -> FxDetails:
    """The rate behind the SGD amount: value, date, source, and whether it is stale or locked."""
    locked = locked_on(deal.outcome, deal.closing_date) is not None and deal.fx_rate_source != ""
    staleness = rate_staleness(deal.fx_rate_as_of) if deal.fx_rate_as_of else None
    if deal.currency == "SGD":
        state, state_label = "fresh", "SGD: no conversion"
    elif deal.amount_sgd is None:
        state, state_label = "expired", "Not converted"
    elif locked:
        state, state_label = "locked", "Locked to the closing date's rate"
    elif staleness in (Staleness.STALE, Staleness.EXPIRED):
        state, state_label = (
            staleness.value,
            f"{staleness.label}: older than "
            + ("30 days" if staleness is Staleness.EXPIRED else "7 days"),
        )
    else:
        state, state_label = "fresh", "Rate in effect now"
    return FxDetails(
        rate=plain_number(deal.fx_rate) if deal.fx_rate is not None else None,
        as_of=deal.fx_rate_as_of,
        source=RateSource(deal.fx_rate_source).label if deal.fx_rate_source else "",
        state=state,
        state_label=state_label,
        note=deal.fx_note,
        locked_on=deal.closing_date if locked else None,
    )


def _form_values(deal: Opportunity, posted: dict[str, str] | None) -> dict[str, str]:
    """What the edit form shows: what was posted (nothing lost on an error), else the deal."""
    if posted is not None:
        return posted
    values = {}
    for name in EDITABLE_FIELDS:
        value = getattr(deal, name)
        if isinstance(value, date | datetime):
            values[name] = value.isoformat()
        elif isinstance(value, Decimal):
            values[name] = f"{value:f}"
        else:
            values[name] = "" if value is None else str(value)
    return values


def _edit_fields(
    deal: Opportunity, values: dict[str, str], errors: dict[str, list[str]]
) -> list[EditField]:
    currencies = sorted({*settings.FX_CURRENCIES, deal.currency, values.get("currency", "")} - {""})
    # The stages in use come from every deal: a scan of the table, so cached like the figures.
    stages = list(cached_figures("stage-choices", "all", Opportunity.objects.stage_choices))
    if values.get("stage") and values["stage"] not in stages:
        stages.append(values["stage"])
    fields = []
    for name in EDITABLE_FIELDS:
        field = FIELDS_BY_NAME[name]
        fields.append(
            EditField(
                name=name,
                label=field.label,
                input_type="date" if field.kind is FieldKind.DATE else "text",
                decimal=field.kind in (FieldKind.PERCENT, FieldKind.MONEY),
                value=values.get(name, ""),
                errors=errors.get(name, []),
                pending=name in deal.pending_fields,
                refused=deal.push_errors.get(name, "")
                if name in deal.pending_fields or name in deal.refused_values
                else "",
                choices=stages if name == "stage" else currencies if name == "currency" else None,
            )
        )
    return fields


def _context(
    request: HttpRequest,
    deal: Opportunity,
    *,
    posted: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    saved: list[str] | None = None,
) -> dict[str, Any]:
    today = timezone.localdate()
    editable = can_edit_deal(request.user, deal)
    base = settings.ZOHO_WEB_URL.rstrip("/")
    open_conflicts, resolved_conflicts = deal_conflicts(deal)
    # One row more than shown says whether older changes exist, without counting them.
    events = list(ChangeEvent.objects.of_deal(deal.pk)[: HISTORY_ON_PAGE + 1])
    return {
        "deal": deal,
        "crm_rows": crm_rows(deal),
        "milestones": milestones(deal, today),
        "transitions": PhaseTransition.objects.of_deal(deal.pk),
        "events": events[:HISTORY_ON_PAGE],
        "older_changes": len(events) > HISTORY_ON_PAGE,
        "fx": fx_details(deal),
        "deal_url": reverse("deal", args=[deal.pk]),  # the edit form's three uses
        "zoho_url": f"{base}/crm/tab/Potentials/{deal.zoho_id}",
        "pending_labels": [FIELDS_BY_NAME[name].label for name in deal.pending_fields],
        "waiting": waiting_fields(deal, open_conflicts),
        "refused_count": sum(
            1
            for name in deal.push_errors
            if name in deal.pending_fields or name in deal.refused_values
        ),
        "open_conflicts": conflict_rows(deal, open_conflicts),
        "resolved_conflicts": conflict_rows(deal, resolved_conflicts),
        "local_edits": local_edits(deal),
        "rate_overrides": rate_overrides_of(deal),
        "may_decide": is_admin(request.user),
        "conflict_errors": {},
        "refused_errors": {},
        "editable": editable,
        "edit_fields": _edit_fields(deal, _form_values(deal, posted), errors or {})
        if editable
        else [],
        "errors": errors or {},
        "saved": saved or [],
        "amount_sgd_text": sgd(deal.amount_sgd),
    }


@vary_on_headers("HX-Request")  # the page, or its fragment to htmx
@require_http_methods(["GET", "POST"])
def deal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One deal; a POST is the edit form (Managers, Admins, and a Rep on their own deals)."""
    deal = deal_for(request.user, pk)
    if request.method == "GET":
        return render_page(
            request, "opportunities/deal.html", _context(request, deal), fragment="deal"
        )
    posted = {
        name: request.POST.get(name, "").strip() for name in EDITABLE_FIELDS if name in request.POST
    }
    before = {name: getattr(deal, name) for name in EDITABLE_FIELDS}
    try:
        # PermissionDenied (a Viewer, a deleted deal) becomes Django's 403 page.
        updated = opportunity_edit(deal=deal, user=request.user, changes=posted)
    except ValidationError as exc:
        errors = {name: [str(m) for m in msgs] for name, msgs in exc.message_dict.items()}
        context = _context(request, deal, posted=posted, errors=errors)
        return render_page(request, "opportunities/deal.html", context, fragment="deal", status=422)
    saved = [FIELDS_BY_NAME[n].label for n in EDITABLE_FIELDS if getattr(updated, n) != before[n]]
    if not request.htmx:  # type: ignore[attr-defined]
        if saved:
            messages.success(
                request, "Saved: " + ", ".join(saved) + ". Waiting to be sent to Zoho."
            )
        else:
            messages.info(request, "Nothing changed.")
        return HttpResponseRedirect(reverse("deal", args=[deal.pk]))
    updated = deal_for(request.user, pk)  # with its account and owner again
    context = _context(request, updated, saved=saved)
    context["nothing_changed"] = not saved
    return render_page(request, "opportunities/deal.html", context, fragment="deal")


@vary_on_headers("HX-Request")  # the page, or its fragment to htmx
@require_POST
def refused_decide(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """Someone who may edit the deal sends a value set aside again, or drops it."""
    deal = deal_for(request.user, pk)
    action = request.POST.get("action", "")
    try:
        # PermissionDenied (may not edit this deal) becomes Django's 403 page.
        if action == "send":
            refused_edit_send_again(deal=deal, user=request.user, field=field)
            messages.success(request, "Sent again: it goes to Zoho with the next batch.")
        elif action == "drop":
            refused_edit_drop(deal=deal, user=request.user, field=field)
            messages.success(request, "Dropped: the deal keeps Zoho's value.")
        else:
            raise ValidationError("Choose to send the value again or to drop it.")
    except ValidationError as exc:
        context = _context(request, deal)
        context["refused_errors"] = {field: exc.messages}
        return render_page(request, "opportunities/deal.html", context, fragment="deal", status=422)
    if not request.htmx:  # type: ignore[attr-defined]
        return HttpResponseRedirect(reverse("deal", args=[deal.pk]))
    context = _context(request, deal_for(request.user, pk))
    return render_page(request, "opportunities/deal.html", context, fragment="deal")


@require_POST
def conflict_decide(request: HttpRequest, pk: int, conflict_id: int) -> HttpResponse:
    """An Admin settles one of the deal's open conflicts from the deal page."""
    deal = deal_for(request.user, pk)
    conflict = get_object_or_404(Conflict, pk=conflict_id, opportunity=deal)
    resolution, value = request.POST.get("resolution", ""), request.POST.get("value", "").strip()
    try:
        # PermissionDenied (not an Admin) becomes Django's 403 page.
        conflict_resolve(conflict=conflict, user=request.user, resolution=resolution, value=value)
    except ValidationError as exc:
        context = _context(request, deal)
        context["conflict_errors"] = {conflict.pk: exc.messages}
        return render_page(request, "opportunities/deal.html", context, fragment="deal", status=422)
    messages.success(request, f"Conflict settled: {ConflictResolution(resolution).label}.")
    if not request.htmx:  # type: ignore[attr-defined]
        return HttpResponseRedirect(reverse("deal", args=[deal.pk]))
    context = _context(request, deal_for(request.user, pk))
    return render_page(request, "opportunities/deal.html", context, fragment="deal")


@require_GET
def deal_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every change of one deal, newest first, a page at a time."""
    deal = deal_for(request.user, pk)
    paginator = Paginator(ChangeEvent.objects.of_deal(deal.pk), HISTORY_PAGE_SIZE)
    return render(
        request,
        "opportunities/deal_history.html",
        {"deal": deal, "page": paginator.get_page(request.GET.get("page"))},
    )
