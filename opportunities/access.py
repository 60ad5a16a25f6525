"""What a login may see and do: one policy for pages, fragments, exports, the API and admin.

Deals are scoped by role: Admins, Managers and Viewers see every live deal, a Rep only the
deals whose CRM owner is them (matched by e-mail). A deal outside a login's scope does not
exist for it: 404, never 403, so its existence does not leak.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404

from opportunities.models import Opportunity, OpportunityQuerySet
from opportunities.models.deals import EVERY_LIVE_DEAL_ROLES
from opportunities.roles import Role, role_of

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    Login = User | AnonymousUser

# Who may change the O2R tracking fields of the deals they see.
EDITING_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.REP})
# Who may start a sync with Zoho.
SYNCING_ROLES = frozenset({Role.ADMIN, Role.MANAGER})
# Who sees every record a sync could not take (its Zoho id and the bad value); a Rep sees
# those of its own deals, anyone else none.
SYNC_ISSUE_ROLES = frozenset({Role.ADMIN, Role.MANAGER})

__all__ = [
    "EDITING_ROLES",
    "SYNCING_ROLES",
    "SYNC_ISSUE_ROLES",
    "can_edit_deal",
    "can_edit_deals",
    "can_sync",
    "deal_for",
    "deals_visible_to",
    "is_admin",
    "role_of",
]


def deals_visible_to(user: Login) -> OpportunityQuerySet:
    """The live deals this login may see (none for an anonymous or unassigned login)."""
    return Opportunity.objects.visible_to(user)


def deal_for(user: Login, pk: object) -> Opportunity:
    """One deal the login may see, or Http404: the same answer for "not yours" and "no such".

    With its account and owner, and whether it has conflicts or history of local edits: one
    query, and for a Rep a second that asks `deals_visible_to` whether the deal is theirs.
    """
    deal = Opportunity.objects.live_deal(pk)
    if deal is None or not _may_see(user, deal):
        raise Http404("No deal matches the given query.")
    return deal


# On a deal object: the logins already found allowed to see it (or not), so the view and the
# edits service of one request ask the database once.
_VISIBLE_TO = "_pipeline_pulse_visible_to"


def _may_see(user: Login, deal: Opportunity) -> bool:
    """Whether `deals_visible_to(user)` holds this live deal."""
    if role_of(user) in EVERY_LIVE_DEAL_ROLES:
        return True  # as deals_visible_to: every live deal
    answers: dict[object, bool] = deal.__dict__.setdefault(_VISIBLE_TO, {})
    if user.pk not in answers:
        answers[user.pk] = deals_visible_to(user).filter(pk=deal.pk).exists()
    return answers[user.pk]


def can_edit_deals(user: Login) -> bool:
    """Whether the login may edit deals at all (a Viewer may not)."""
    return role_of(user) in EDITING_ROLES


def can_edit_deal(user: Login, deal: Opportunity) -> bool:
    """Whether the login may edit this deal: any deal it can see, if its role edits at all.

    A Rep sees only its own deals, so "visible" already means "own" for a Rep; the check is
    repeated here so a caller holding a deal from elsewhere cannot edit past the scope.
    """
    if not can_edit_deals(user) or deal.is_deleted:
        return False
    return _may_see(user, deal)


def can_sync(user: Login) -> bool:
    """Whether the login may start a sync with Zoho (Managers and Admins)."""
    return role_of(user) in SYNCING_ROLES


def is_admin(user: Login) -> bool:
    """Revenue operations: mappings, thresholds, FX overrides, conflicts, users."""
    return role_of(user) is Role.ADMIN
