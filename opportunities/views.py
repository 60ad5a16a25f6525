"""HTML views of deals; HTMX requests get the fragment, everything else the whole page."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from opportunities.models import Opportunity

PAGE_SIZE = 50


def _template(request: HttpRequest, page: str, fragment: str) -> str:
    """A boosted navigation wants the whole page; other HTMX requests only the fragment."""
    if getattr(request, "htmx", False) and not request.htmx.boosted:  # type: ignore[attr-defined]
        return f"{page}#{fragment}"
    return page


@require_GET
def opportunity_list(request: HttpRequest) -> HttpResponse:
    """The deals this login may see, soonest closing first."""
    deals = (
        Opportunity.objects.visible_to(request.user)
        .select_related("account", "owner")
        .order_by("closing_date", "id")
    )
    page = Paginator(deals, PAGE_SIZE).get_page(request.GET.get("page"))
    template = _template(request, "opportunities/opportunity_list.html", "deal-table")
    return render(request, template, {"page": page})
