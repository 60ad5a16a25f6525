"""Saved views of the health board: save the current filters, reopen, share by link, delete.

Opening a view is a redirect to the board with its query: the board applies the filters to
the deals the viewer may see (opportunities.access), so a shared view never shows anyone
more than their own scope.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from opportunities.access import role_of
from opportunities.models import SavedView
from opportunities.services.saved_views import (
    SavedViewRefused,
    saved_view_create,
    saved_view_delete,
    saved_view_share,
)

# Characters of a query a POST may carry; longer is refused before any parsing.
MAX_POSTED_QUERY = 4000


def board_link(query: str) -> str:
    return reverse("board") + (f"?{query}" if query else "")


def saved_views_of(request: HttpRequest) -> list[SavedView]:
    """The login's own views, for the board's menu (one query)."""
    if role_of(request.user) is None:
        return []
    return list(SavedView.objects.filter(owner_id=request.user.pk).order_by("name", "id"))


@require_POST
def saved_view_save(request: HttpRequest) -> HttpResponse:
    """Save the board's current filters under a name; back to the board either way."""
    query = request.POST.get("query", "")[:MAX_POSTED_QUERY]
    back = board_link(query.lstrip("?"))
    if role_of(request.user) is None:
        raise Http404("No board for this login.")
    try:
        view = saved_view_create(
            owner=request.user,  # type: ignore[arg-type]
            name=request.POST.get("name", ""),
            query=query,
            shared=request.POST.get("shared") == "on",
        )
    except SavedViewRefused as refused:
        messages.error(request, f"The view was not saved: {refused.message}")
        return HttpResponseRedirect(back)
    messages.success(request, f"Saved the view “{view.name}”.")
    return HttpResponseRedirect(board_link(view.query))


def _own_view(request: HttpRequest, pk: int) -> SavedView:
    return get_object_or_404(SavedView, pk=pk, owner_id=request.user.pk)


@require_POST
def saved_view_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one of the login's own views (anyone else's is 404)."""
    view = _own_view(request, pk)
    saved_view_delete(view=view)
    messages.success(request, f"Deleted the view “{view.name}”.")
    return HttpResponseRedirect(board_link(request.POST.get("query", "")[:MAX_POSTED_QUERY]))


@require_POST
def saved_view_share_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Share one of the login's own views by link, or stop sharing it."""
    view = saved_view_share(view=_own_view(request, pk), shared=request.POST.get("shared") == "on")
    if view.shared:
        link = request.build_absolute_uri(reverse("saved_view_open", args=[view.slug]))
        messages.success(request, f"“{view.name}” is shared: anyone logged in can open {link}")
    else:
        messages.success(request, f"“{view.name}” is no longer shared.")
    return HttpResponseRedirect(board_link(view.query))


@require_GET
def saved_view_open(request: HttpRequest, slug: str) -> HttpResponse:
    """Open a view by its link: the owner's own, or one shared with anyone logged in.

    The board then shows the viewer's own scope of deals under the view's filters.
    """
    if role_of(request.user) is None:
        raise Http404("No board for this login.")
    view = SavedView.objects.filter(slug=slug).first()
    if view is None or not (view.shared or view.owner_id == request.user.pk):
        raise Http404("No saved view matches this link.")
    return HttpResponseRedirect(board_link(view.query))
