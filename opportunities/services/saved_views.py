"""Saved views of the health board: named, normalised filter sets a login keeps and shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.http import QueryDict

from opportunities.filters import DealFilter, normalised_board_query
from opportunities.models import Opportunity, SavedView
from opportunities.models.saved_views import NAME_MAX_LENGTH, QUERY_MAX_LENGTH

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class SavedViewRefused(Exception):
    """Why a view was not saved, in words for the person who tried."""

    message: str

    def __str__(self) -> str:
        return self.message


@transaction.atomic
def saved_view_create(*, owner: User, name: str, query: str, shared: bool) -> SavedView:
    """Save the board's filters under a name of the owner's own (case-insensitively unique).

    The query is normalised (no page, no empty values, keys in order) and must be one the
    board accepts: a view never opens on "some filters could not be read".
    """
    name = " ".join(name.split())
    if not name:
        raise SavedViewRefused("Give the view a name.")
    if len(name) > NAME_MAX_LENGTH:
        raise SavedViewRefused(f"Use at most {NAME_MAX_LENGTH} characters for the name.")
    if "\x00" in name or "\x00" in query:
        raise SavedViewRefused("Null characters are not allowed.")
    params = QueryDict(query.lstrip("?"))
    normalised = normalised_board_query(params)
    if len(normalised) > QUERY_MAX_LENGTH:
        raise SavedViewRefused("These filters are too long to save; choose fewer values.")
    board = DealFilter(params, queryset=Opportunity.objects.none())
    if not board.is_valid():
        raise SavedViewRefused("Some filters could not be read; correct them before saving.")
    taken = SavedView.objects.select_for_update().filter(owner=owner, name__iexact=name)
    if taken.exists():
        raise SavedViewRefused(f"You already have a view named “{name}”; choose another name.")
    return SavedView.objects.create(owner=owner, name=name, query=normalised, shared=shared)


def saved_view_share(*, view: SavedView, shared: bool) -> SavedView:
    """Share the view by its link, or stop sharing it (the link then opens for its owner only)."""
    view.shared = shared
    view.save(update_fields=["shared"])
    return view


def saved_view_delete(*, view: SavedView) -> None:
    view.delete()
