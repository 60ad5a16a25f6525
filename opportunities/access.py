"""What a login may see and do: the one policy for pages, fragments, exports, the API and admin.

Deals are scoped by role: Admins, Managers and Viewers see every live deal, a Rep only the
deals whose CRM owner is them (matched by e-mail). A deal outside a login's scope does not
exist for it: 404, never 403, so its existence does not leak.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404

from opportunities.models import ChangeEvent, ChangeEventQuerySet, Opportunity, OpportunityQuerySet
from opportunities.roles import Role, role_of

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    Login = User | AnonymousUser

# Roles that see every live deal; a Rep sees their own.
EVERY_LIVE_DEAL_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.VIEWER})
# Who may change the O2R tracking fields of the deals they see.
EDITING_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.REP})
# Who may start a sync with Zoho.
SYNCING_ROLES = frozenset({Role.ADMIN, Role.MANAGER})
# Who sees every record a sync could not take (its Zoho id and the bad value); a Rep sees
# those of its own deals, anyone else none.
SYNC_ISSUE_ROLES = frozenset({Role.ADMIN, Role.MANAGER})
# The largest id PostgreSQL's bigint holds: a larger one names no deal.
_LARGEST_ID = 2**63 - 1

__all__ = [
    "EDITING_ROLES",
    "EVERY_LIVE_DEAL_ROLES",
    "SYNCING_ROLES",
    "SYNC_ISSUE_ROLES",
    "can_edit_deal",
    "can_edit_deals",
    "can_sync",
    "changes_visible_to",
    "deal_for",
    "deals_visible_to",
    "is_admin",
    "role_of",
]


def deals_visible_to(
    user: Login, deals: OpportunityQuerySet | None = None, *, include_deleted: bool = False
) -> OpportunityQuerySet:
    """The live deals (of `deals`, by default all) this login may see; none for an anonymous
    login or one without a role. `include_deleted` keeps the deals deleted in Zoho too, for
    history (the waterfall's deleted step)."""
    base = Opportunity.objects.all() if deals is None else deals
    live = base if include_deleted else base.live()
    role = role_of(user)
    if role in EVERY_LIVE_DEAL_ROLES:
        return live
    email = getattr(user, "email", "")
    if role is Role.REP and email:
        return live.filter(owner__email__iexact=email)
    return live.none()


def changes_visible_to(user: Login) -> ChangeEventQuerySet:
    """The change events of the deals this login may see."""
    return ChangeEvent.objects.filter(opportunity__in=deals_visible_to(user))


def deal_for(user: Login, pk: object) -> Opportunity:
    """One deal the login may see, with its account, owner and record flags, in one query; or
    Http404: the same answer for "not yours" and "no such"."""
    deal_id = _deal_id(pk)
    deal = (
        None
        if deal_id is None
        else deals_visible_to(user)
        .select_related("account", "owner")
        .with_record_flags()
        .filter(pk=deal_id)
        .first()
    )
    if deal is None:
        raise Http404("No deal matches the given query.")
    return deal


def _deal_id(pk: object) -> int | None:
    """A deal id from a URL or a form: a positive bigint, else None (no deal has it)."""
    try:
        deal_id = int(str(pk))
    except ValueError:
        return None
    return deal_id if 0 < deal_id <= _LARGEST_ID else None


def can_edit_deals(user: Login) -> bool:
    """Whether the login may edit deals at all (a Viewer may not)."""
    return role_of(user) in EDITING_ROLES


def can_edit_deal(user: Login, deal: Opportunity) -> bool:
    """Whether the login may edit this deal: a live deal it can see, if its role edits at all.

    Asked of the database, so a caller holding a deal from elsewhere cannot edit past the
    scope; free for the roles that see every live deal.
    """
    if not can_edit_deals(user) or deal.is_deleted:
        return False
    if role_of(user) in EVERY_LIVE_DEAL_ROLES:
        return True
    return deals_visible_to(user).filter(pk=deal.pk).exists()


def can_sync(user: Login) -> bool:
    """Whether the login may start a sync with Zoho (Managers and Admins)."""
    return role_of(user) in SYNCING_ROLES


def is_admin(user: Login) -> bool:
    """Revenue operations: mappings, thresholds, FX overrides, conflicts, users."""
    return role_of(user) is Role.ADMIN
