"""Links to the health board: filtered to exactly the deals behind a figure, and back to it."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.http import QueryDict
from django.urls import reverse

from opportunities.models import Outcome


def board_url(**params: str | list[str]) -> str:
    """/board/?outcome=open&territory=Singapore: each keyword a filter of DealFilter."""
    query = urlencode({key: value for key, value in params.items() if value != ""}, doseq=True)
    return f"{reverse('board')}?{query}" if query else reverse("board")


def open_board_url(**params: str) -> str:
    """The board filtered to open deals, and to the given filters."""
    return board_url(outcome=Outcome.OPEN, **params)


# Left out of a shared or pushed board address: a parameter with no value is no filter, the
# first page is the page, and htmx's cache-buster only keeps browsers' caches apart.
_NOT_IN_ADDRESS = {"org.htmx.cache-buster"}


def clean_query(params: QueryDict) -> str:
    """The query string of only the filters set: no empty values, no `page=1`."""
    kept = [
        (key, value)
        for key, values in params.lists()
        if key not in _NOT_IN_ADDRESS
        for value in values
        if value.strip() != "" and not (key == "page" and value.strip() == "1")
    ]
    return urlencode(kept)


def board_back_url(value: str | None) -> str | None:
    """The board address a deal page's breadcrumb returns to, if `value` is one.

    Only a path on this site that is the board's, with a query string and nothing else: never
    another host, scheme, path or a protocol-relative `//host` (an open redirect otherwise).
    """
    if not value or len(value) > 2000:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.fragment or parts.path != reverse("board"):
        return None
    if value.startswith("//") or "\\" in value or any(ord(c) < 32 for c in value):
        return None
    query = clean_query(QueryDict(parts.query))
    return f"{parts.path}?{query}" if query else parts.path
