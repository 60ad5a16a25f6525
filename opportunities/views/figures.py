"""Figures over every visible deal, cached for a few seconds between changes.

Totals of 100,000 deals cost a scan of the deals table each; a dashboard or board opened by a
whole sales team every morning would repeat the same scans many times a minute. Each figure
is kept with the data version it was computed at (opportunities.data_version), which every
service that writes deals moves, and for at most FIGURES_SECONDS: a write outside the
services (a shell, a raw SQL fix) shows within that. The version and the kept value come in
one round trip to the cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from opportunities.access import territories_of
from opportunities.data_version import keep_at_version, kept_at_version
from opportunities.roles import Role, role_of
from pipeline_pulse.web.fragments import wants_fragment

T = TypeVar("T")

FIGURES_SECONDS = 30


def cached_figures(name: str, scope: str, compute: Callable[[], T], *, detail: str = "") -> T:
    """`compute()`, or its value from the last FIGURES_SECONDS at the same data version."""
    key = _key(name, scope, detail)
    version, value = kept_at_version(key)
    if value is None:
        value = compute()
        keep_at_version(key, value, version, FIGURES_SECONDS)
    return value


def cached_page(
    request: HttpRequest,
    page: str,
    build: Callable[[], tuple[Mapping[str, Any], int]],
    *,
    scope: str,
    content: str,
    fragment: str,
    around: Callable[[], Mapping[str, Any]] | None = None,
) -> HttpResponse:
    """The page, or its `fragment` partial for an HTMX swap, drawn once per data version.

    Below the header a page shows every login of `scope` the same thing for the same
    address, so its `content` partial (or the fragment) is kept like a figure: `build()`
    gives the context and status only when it is not in the cache. The header (the login,
    the freshness line, the CSRF token) is drawn for each request around it. A part that
    holds a CSRF token is never kept: it is the login's own. `around()` gives the context of
    what the whole page draws around the kept part for this login alone (its saved views).
    """
    swap = wants_fragment(request)
    part = fragment if swap else content
    # An HTMX request (boosted or not) draws some parts differently: out-of-band swaps.
    variant = f"{part}:{bool(getattr(request, 'htmx', False))}:{request.get_full_path()}"
    key = _key(f"page:{page}", scope, variant)
    version, kept = kept_at_version(key)
    if kept is None:
        context, status = build()
        kept = (status, render_to_string(f"{page}#{part}", context, request))
        if "csrfmiddlewaretoken" not in kept[1]:
            keep_at_version(key, kept, version, FIGURES_SECONDS)
    status, drawn = kept
    if swap:
        return HttpResponse(drawn, status=status)
    # A SafeString from the template engine (escaped there), and still one out of the cache.
    extra = around() if around is not None else {}
    return render(request, page, {**extra, "content": drawn}, status=status)


def _key(name: str, scope: str, detail: str) -> str:
    digest = hashlib.sha256(detail.encode()).hexdigest()[:16] if detail else "-"
    return f"screens:figures:v2:{name}:{scope}:{digest}"


def login_scope(request: HttpRequest) -> str:
    """Which deals the login sees, as a cache key part: all of them, a rep's own, or those of
    a Manager's territories."""
    role = role_of(request.user)
    if role is Role.REP:
        return "rep:" + (getattr(request.user, "email", "") or "").lower()
    territories = territories_of(request.user)
    if territories:
        digest = hashlib.sha256("\x00".join(territories).encode()).hexdigest()[:16]
        return f"territories:{digest}"
    return "all" if role else "none"
