"""The health board: the deals a login may see, grouped by health, filtered in the URL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from opportunities.access import deals_visible_to
from opportunities.changes_since import (
    MOVES_EVENTS,
    DealNow,
    deal_age_days,
    deal_moves,
    default_since,
    with_moves_events,
)
from opportunities.filters import (
    CLOSING_WINDOWS,
    NOT_FILTERS,
    PROBABILITY_BANDS,
    SORT_CHOICES,
    SORTABLE_COLUMNS,
    DealFilter,
    board_query,
    normalised_board_query,
)
from opportunities.models import HEALTH_ORDER, OpportunityQuerySet, Outcome, Phase
from opportunities.models.saved_views import NAME_MAX_LENGTH
from opportunities.selectors import filter_options, health_groups
from opportunities.views.figures import cached_figures, cached_page, login_scope
from opportunities.views.links import clean_query
from opportunities.views.paging import CountedPaginator
from opportunities.views.saved_views import saved_views_of

PAGE_SIZE = 50
# Every column a row shows, and all the board reads of its 50 deals (`.only()`): a row that
# read one more would cost a query per deal, which the query-count tests catch.
BOARD_COLUMNS = (
    "name",
    "stage",
    "phase",
    "outcome",
    "probability",
    "amount",
    "currency",
    "amount_sgd",
    "fx_note",
    "closing_date",
    "health_status",
    "health_reasons",
    "pending_fields",
    "account__name",
    "owner__name",
    # Changes since a day, and how long the deal has been where it is.
    "closing_date_push_count",
    "stage_entered_at",
    "created_at",
    "zoho_created_time",
)
# Filter options come from up to 100,000 deals: a few minutes old is close enough for a list
# of names, and a new territory appears in the results at once either way.
OPTIONS_CACHE_SECONDS = 300


def board_options(deals: OpportunityQuerySet, scope: str) -> dict[str, Any]:
    """Owners, territories, service lines and currencies among the deals a login sees."""
    key = f"board-options:v1:{scope}"
    options: dict[str, Any] | None = cache.get(key)
    if options is None:
        options = filter_options(deals)
        options["owners"] = [(str(pk), name) for pk, name in options["owners"]]
        cache.set(key, options, OPTIONS_CACHE_SECONDS)
    return options


def _export_urls(query: str) -> dict[str, str]:
    """The download links: the same query, so the same deals in the same order."""
    suffix = f"?{query}" if query else ""
    return {
        "csv": reverse("board_export_csv") + suffix,
        "xlsx": reverse("board_export_xlsx") + suffix,
    }


def _sort_links(data: QueryDict) -> dict[str, dict[str, str]]:
    """Each sortable column's link (ascending first, then descending) and its aria-sort."""
    current = data.get("sort", "")
    links = {}
    for column in SORTABLE_COLUMNS:
        state = (
            "ascending" if current == column else "descending" if current == f"-{column}" else ""
        )
        query = data.copy()
        query.pop("page", None)
        sort = f"-{column}" if state == "ascending" else column
        query["sort"] = sort
        links[column] = {"query": clean_query(query), "state": state, "sort": sort}
    return links


def _groups(
    totals: dict[str, tuple[int, Decimal]], grouped: bool
) -> tuple[int, list[dict[str, Any]], dict[str, dict[str, Any]]]:
    summary: list[dict[str, Any]] = [
        {
            "status": status.value,
            "label": str(status.label),
            "count": totals.get(status, (0, Decimal(0)))[0],
            "sgd": totals.get(status, (0, Decimal(0)))[1],
        }
        for status in HEALTH_ORDER
    ]
    by_status = {group["status"]: group for group in summary} if grouped else {}
    return sum(group["count"] for group in summary), summary, by_status


@vary_on_headers("HX-Request")  # the page, or its fragment to htmx
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """Deals grouped by health with their reasons; filters, search, sort and pages in the URL.

    A sales team opens the same few views all morning: each is drawn once per data version
    (the filters form and the results alike) and then comes from the cache.
    """
    scope = login_scope(request)
    return cached_page(
        request,
        "opportunities/board.html",
        lambda: _board_context(request, scope),
        scope=scope,
        content="content",
        fragment="results",
        around=lambda: _saved_views_context(request),
    )


def _saved_views_context(request: HttpRequest) -> dict[str, Any]:
    """The login's own saved views and the query the save form keeps (drawn per login)."""
    return {
        "saved_views": saved_views_of(request),
        "current_query": normalised_board_query(request.GET),
        "name_max_length": NAME_MAX_LENGTH,
    }


def _board_context(request: HttpRequest, scope: str) -> tuple[dict[str, Any], int]:
    visible = deals_visible_to(request.user)
    data, is_default = board_query(request.GET)
    filterset = DealFilter(data, queryset=visible, request=request)
    options = board_options(visible, scope)
    context: dict[str, Any] = {
        "filterset": filterset,
        "form": filterset.form,
        "data": data,
        "is_default": is_default,
        "options": options,
        "phases": Phase.choices,
        "health_choices": [(s.value, s.label) for s in HEALTH_ORDER],
        "outcomes": Outcome.choices,
        "closing_windows": CLOSING_WINDOWS,
        "probability_bands": list(PROBABILITY_BANDS),
        "sort_choices": SORT_CHOICES,
        "sortable": SORTABLE_COLUMNS,
        "selected": {key: data.getlist(key) for key in data},
        # The count on the phone's "Filters" button: the filters set besides the search.
        "active_filters": 0
        if is_default
        else sum(1 for key in data if key not in NOT_FILTERS and key != "q" and data.get(key)),
        # The deal pages' breadcrumb leads back to this very list (views/deal.py checks it).
        "back_query": f"{reverse('board')}?{clean_query(request.GET)}"
        if clean_query(request.GET)
        else "",
        "query": request.GET.urlencode(),
        "htmx_url": request.get_full_path(),
        "since": default_since(),
        "default_since": default_since(),
    }
    if not filterset.is_valid():
        # Never a silently wider list: say what is wrong and show no deals.
        context.update(page=None, total=0, groups=[], group_by_status={}, export=None)
        return context, 400
    sort = data.get("sort", "")
    grouped = sort.lstrip("-") in ("", "health")
    deals = filterset.qs
    # The totals (and so the page count) of the same filters, whatever the page or sort.
    filters = data.copy()
    for key in NOT_FILTERS:
        filters.pop(key, None)
    totals = cached_figures(
        "board-groups", scope, lambda: health_groups(deals), detail=filters.urlencode()
    )
    total, groups, group_by_status = _groups(totals, grouped)
    # Sort and slice the narrow ids first, then read the 50 wide rows with their joins.
    ids = CountedPaginator(deals.values_list("pk", flat=True), PAGE_SIZE, count=total)
    page = ids.get_page(request.GET.get("page"))
    wanted = list(page.object_list)
    since = filterset.since_date()
    # What moved since the day comes with the rows (an annotation): no query per row.
    rows = with_moves_events(
        deals.model.objects.filter(pk__in=wanted)
        .select_related("account", "owner")
        .only(*BOARD_COLUMNS)
        .with_conflict_flag(),
        since,
    )
    by_pk = {row.pk: row for row in rows}
    for row in by_pk.values():
        now = DealNow(row.closing_date, row.stage_entered_at, row.created_at)
        row.moves = deal_moves(getattr(row, MOVES_EVENTS), now, since)  # type: ignore[attr-defined]
        row.age_days = deal_age_days(row.zoho_created_time or row.created_at)  # type: ignore[attr-defined]
    page.object_list = [by_pk[pk] for pk in wanted if pk in by_pk]
    context.update(
        page=page,
        total=total,
        groups=groups,
        group_by_status=group_by_status,
        grouped=grouped,
        sort_links=_sort_links(data),
        export=_export_urls(request.GET.urlencode()),
        strategic_amount=settings.STRATEGIC_AMOUNT_SGD,
        since=since,
    )
    return context, 200
