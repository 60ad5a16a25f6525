"""One view serves a whole page or, to an HTMX request, just the part it swaps in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def wants_fragment(request: HttpRequest) -> bool:
    """An HTMX request that swaps part of the page. A boosted navigation, and htmx restoring a
    history entry (Back to a pushed address), want the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request  # type: ignore[union-attr]


def page_or_fragment(request: HttpRequest, page: str, fragment: str) -> str:
    """The template to render: `page`, or its partial `page#fragment` for an HTMX swap."""
    return f"{page}#{fragment}" if wants_fragment(request) else page


def render_page(
    request: HttpRequest,
    page: str,
    context: Mapping[str, Any],
    *,
    fragment: str,
    status: int = 200,
) -> HttpResponse:
    """Render the page, or only its `fragment` partial when HTMX asks for a swap."""
    return render(request, page_or_fragment(request, page, fragment), context, status=status)
