"""HTML views of deals; HTMX requests get the fragment, everything else the whole page."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from opportunities.access import deals_visible_to
from pipeline_pulse.fragments import render_page

PAGE_SIZE = 50


@require_GET
def opportunity_list(request: HttpRequest) -> HttpResponse:
    """The deals this login may see, soonest closing first."""
    deals = (
        deals_visible_to(request.user)
        .select_related("account", "owner")
        .order_by("closing_date", "id")
    )
    page = Paginator(deals, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page(
        request, "opportunities/opportunity_list.html", {"page": page}, fragment="deal-table"
    )
