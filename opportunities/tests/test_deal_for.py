"""One deal as a login may see it: with its account, owner and record flags, in one query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from opportunities.access import can_edit_deal, deal_for, territories_of
from opportunities.models import Conflict, Opportunity
from opportunities.roles import Role, role_of
from opportunities.tests.factories import CrmUserFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_deal_comes_with_its_account_owner_and_flags_in_one_query() -> None:
    manager = UserFactory.create(role=Role.MANAGER)
    deal = OpportunityFactory.create(health_reasons=[{"code": "stale", "message": "Stale"}])
    Conflict.objects.create(
        opportunity=deal, field="closing_date", base_value="", local_value="", zoho_value=""
    )
    role_of(manager)  # the role is read once a request, before the deal
    territories_of(manager)  # and so are a Manager's territories

    with CaptureQueriesContext(connection) as queries:
        read = deal_for(manager, deal.pk)
        account, owner = read.account, read.owner
        has_conflicts = getattr(read, "has_conflicts")  # noqa: B009  (an annotation)

    assert len(queries) == 1
    assert (account, owner) == (deal.account, deal.owner)
    assert has_conflicts is True
    other = deal_for(manager, OpportunityFactory.create().pk)
    assert getattr(other, "has_conflicts") is False  # noqa: B009


def test_a_deal_without_account_or_owner_has_none_and_costs_no_query() -> None:
    manager = UserFactory.create(role=Role.MANAGER)
    read = deal_for(manager, OpportunityFactory.create(account=None, owner=None).pk)
    with CaptureQueriesContext(connection) as queries:
        assert (read.account, read.owner) == (None, None)
    assert len(queries) == 0


@pytest.mark.parametrize("pk", ["deleted", 10**9, 0, -5, 2**63, 10**30, "12abc", None, "²"])
def test_no_deal_for_a_deleted_missing_or_impossible_id(pk: object) -> None:
    manager = UserFactory.create(role=Role.MANAGER)
    deleted = OpportunityFactory.create(is_deleted=True)
    with pytest.raises(Http404):
        deal_for(manager, deleted.pk if pk == "deleted" else pk)


def test_a_rep_reads_their_own_deal_in_one_query_and_no_one_elses() -> None:
    rep = UserFactory.create(role=Role.REP)
    own = OpportunityFactory.create(owner=CrmUserFactory.create(email=rep.email.upper()))
    other = OpportunityFactory.create()
    role_of(rep)

    with CaptureQueriesContext(connection) as queries:
        assert deal_for(rep, own.pk) == own
    assert len(queries) == 1
    with pytest.raises(Http404):
        deal_for(rep, other.pk)
    assert can_edit_deal(rep, Opportunity.objects.get(pk=own.pk))  # a deal read elsewhere
    assert not can_edit_deal(rep, Opportunity.objects.get(pk=other.pk))


def test_a_login_without_a_role_sees_no_deal() -> None:
    deal = OpportunityFactory.create()
    with pytest.raises(Http404):
        deal_for(UserFactory.create(), deal.pk)
