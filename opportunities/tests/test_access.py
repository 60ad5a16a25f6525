"""One access policy: what each role may see, edit and start."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from opportunities.access import can_edit_deal, can_edit_deals, can_sync, deal_for, is_admin
from opportunities.roles import Role
from opportunities.tests.factories import CrmUserFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep_and_deals() -> tuple[object, object, object]:
    rep = UserFactory.create(role=Role.REP, email="rep@example.com")
    own = OpportunityFactory.create(owner=CrmUserFactory.create(email="REP@example.com"))
    other = OpportunityFactory.create()
    return rep, own, other


def test_a_rep_gets_404_for_a_deal_that_is_not_theirs(rep_and_deals: tuple) -> None:
    rep, own, other = rep_and_deals
    assert deal_for(rep, own.pk) == own
    with pytest.raises(Http404):
        deal_for(rep, other.pk)
    with pytest.raises(Http404):
        deal_for(rep, 10**9)  # the same answer as "no such deal"


def test_a_deleted_deal_is_not_found_by_anyone() -> None:
    deleted = OpportunityFactory.create(is_deleted=True)
    with pytest.raises(Http404):
        deal_for(UserFactory.create(role=Role.ADMIN), deleted.pk)


@pytest.mark.parametrize(
    ("role", "edits", "syncs", "admin"),
    [
        (Role.ADMIN, True, True, True),
        (Role.MANAGER, True, True, False),
        (Role.REP, True, False, False),
        (Role.VIEWER, False, False, False),
        (None, False, False, False),
    ],
)
def test_what_each_role_may_do(role: Role | None, edits: bool, syncs: bool, admin: bool) -> None:
    user = UserFactory.create(role=role)
    assert (can_edit_deals(user), can_sync(user), is_admin(user)) == (edits, syncs, admin)


def test_anonymous_may_do_nothing() -> None:
    anonymous = AnonymousUser()
    assert (can_edit_deals(anonymous), can_sync(anonymous), is_admin(anonymous)) == (
        False,
        False,
        False,
    )


def test_a_rep_edits_only_their_own_deals(rep_and_deals: tuple) -> None:
    rep, own, other = rep_and_deals
    assert can_edit_deal(rep, own)
    assert not can_edit_deal(rep, other)


def test_managers_edit_any_live_deal_and_viewers_none() -> None:
    deal = OpportunityFactory.create()
    assert can_edit_deal(UserFactory.create(role=Role.MANAGER), deal)
    assert not can_edit_deal(UserFactory.create(role=Role.VIEWER), deal)
    deal.is_deleted = True
    assert not can_edit_deal(UserFactory.create(role=Role.MANAGER), deal)
