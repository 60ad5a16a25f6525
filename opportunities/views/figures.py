"""Figures over every visible deal, cached for a few seconds between changes.

Totals of 100,000 deals cost a scan of the deals table each; a dashboard or board opened by a
whole sales team every morning would repeat the same scans many times a minute. Each figure
is cached under a data version that moves when a person edits a deal here and when a sync is
seen to finish (sync.views), and for at most FIGURES_SECONDS otherwise (nightly rescoring,
rate refreshes), so a page never shows totals older than that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.http import HttpRequest

from opportunities.roles import Role, role_of

T = TypeVar("T")

FIGURES_SECONDS = 30
VERSION_KEY = "screens:data-version:v1"
LAST_SYNC_KEY = "screens:last-sync:v1"


def data_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return int(version)


def deals_changed() -> None:
    """Deals changed: every cached figure is recomputed on its next read."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not set yet (or evicted): any new value differs from what was used
        cache.set(VERSION_KEY, data_version() + 1, timeout=None)


def sync_seen(last_success_id: int) -> bool:
    """Note the newest successful sync; True (and figures invalidated) when it is new."""
    if cache.get(LAST_SYNC_KEY) == last_success_id:
        return False
    cache.set(LAST_SYNC_KEY, last_success_id, timeout=None)
    deals_changed()
    return True


def cached_figures(name: str, scope: str, compute: Callable[[], T], *, detail: str = "") -> T:
    """`compute()`, or its value from the last FIGURES_SECONDS at the same data version."""
    digest = hashlib.sha256(detail.encode()).hexdigest()[:16] if detail else "-"
    key = f"screens:figures:v1:{name}:{scope}:{digest}:{data_version()}"
    value: T | None = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, FIGURES_SECONDS)
    return value


def login_scope(request: HttpRequest) -> str:
    """Which deals the login sees, as a cache key part: all of them, or a rep's own."""
    role = role_of(request.user)
    if role is Role.REP:
        return "rep:" + (getattr(request.user, "email", "") or "").lower()
    return "all" if role else "none"
