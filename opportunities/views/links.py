"""Links to the health board filtered to exactly the deals behind a figure."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from opportunities.models import Outcome


def board_url(**params: str | list[str]) -> str:
    """/board/?outcome=open&territory=Singapore: each keyword a filter of DealFilter."""
    query = urlencode({key: value for key, value in params.items() if value != ""}, doseq=True)
    return f"{reverse('board')}?{query}" if query else reverse("board")


def open_board_url(**params: str) -> str:
    """The board filtered to open deals, and to the given filters."""
    return board_url(outcome=Outcome.OPEN, **params)
