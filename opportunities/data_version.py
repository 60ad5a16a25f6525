"""The deals' data version: one counter that moves whenever what the screens show may change.

Screens keep figures and rendered parts in the cache under the version they were computed
at (opportunities/views/figures.py). Every service that writes deals, their health, their
SGD amounts or their conflicts calls `deals_changed()`, so the next read recomputes; cached
entries also expire within seconds, which bounds what a write outside the services (a
shell, a raw SQL fix) can leave behind.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from pipeline_pulse.storage.transactions import now_and_on_commit

VERSION_KEY = "screens:data-version:v1"


def data_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return int(version)


def kept_at_version(key: str) -> tuple[int, Any]:
    """The data version and what `keep_at_version` left under `key` for it (None if nothing).

    One round trip to the cache for both: a page reads several kept parts.
    """
    found = cache.get_many([VERSION_KEY, key])
    version = found.get(VERSION_KEY)
    if version is None:
        return data_version(), None
    kept = found.get(key)
    if kept is None or kept[0] != version:
        return int(version), None
    return int(version), kept[1]


def keep_at_version(key: str, value: Any, version: int, seconds: int) -> None:
    """Keep `value` under `key` for the data `version` it was computed at, `seconds` at most."""
    cache.set(key, (version, value), seconds)


def deals_changed() -> None:
    """Deals changed: every cached figure is recomputed on its next read.

    The version moves now and again once the transaction commits: a page read between the
    two (which still sees the old rows) is cached under a version nobody asks for again.
    """
    now_and_on_commit(_bump)


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not set yet (or evicted): any new value differs from what was used
        cache.set(VERSION_KEY, data_version() + 1, timeout=None)
