"""Every URL pattern of the project, walked from the urlconf, for tests that must cover them all.

A new route is in the walk the moment it is added: the access test and the fuzz test need no
list of their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

CONVERTER = re.compile(r"<(?:\w+:)?\w+>")
# Named groups, and the unnamed ones some admins use (django-simple-history's record view).
GROUP = re.compile(r"\((?:\?P<\w+>)?([^)?][^)]*)\)")


def _example(group: str) -> str:
    """A value a path parameter's regex accepts: the first of a list of names, or a number."""
    if re.fullmatch(r"[\w|]+", group):
        return group.split("|")[0]
    return next(value for value in ("1", "x") if re.fullmatch(group, value))


def _routes(
    patterns: list[Any], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            path = CONVERTER.sub("1", GROUP.sub(lambda match: _example(match.group(1)), route))
            name = f"{namespace}{pattern.name}" if pattern.name else ""
            yield "/" + path.replace("^", "").replace("$", ""), name, pattern.callback


def all_routes() -> list[tuple[str, str, Any]]:
    """(an example path, the route's name with its namespace, its view), sorted by path."""
    return sorted(_routes(get_resolver().url_patterns), key=lambda route: route[0])
