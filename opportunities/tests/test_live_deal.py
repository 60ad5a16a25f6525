"""One deal with its account, owner and record flags, read in one query compiled once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from opportunities.access import can_edit_deal, deal_for
from opportunities.models import ChangeEvent, Conflict, Opportunity, PhaseTransition
from opportunities.roles import Role, role_of
from opportunities.tests.factories import CrmUserFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db


def orm_read(pk: int) -> Opportunity:
    return (
        Opportunity.objects.live().select_related("account", "owner").with_record_flags().get(pk=pk)
    )


def test_the_deal_is_the_orms_read_in_one_query() -> None:
    deal = OpportunityFactory.create(health_reasons=[{"code": "stale", "message": "Stale"}])
    Conflict.objects.create(
        opportunity=deal, field="closing_date", base_value="", local_value="", zoho_value=""
    )
    expected = orm_read(deal.pk)

    with CaptureQueriesContext(connection) as queries:
        read = Opportunity.objects.live_deal(deal.pk)
        assert read is not None
        account, owner = read.account, read.owner

    assert len(queries) == 1  # the account and owner came with it
    for field in Opportunity._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
    flags = ("has_conflicts", "has_local_history")
    assert [getattr(read, flag) for flag in flags] == [getattr(expected, flag) for flag in flags]
    assert getattr(read, "has_conflicts") is True  # noqa: B009  (an annotation: no stub knows it)
    assert account is not None
    assert owner is not None
    for related, orm in ((account, expected.account), (owner, expected.owner)):
        assert orm is not None
        assert type(related) is type(orm)
        for field in type(orm)._meta.concrete_fields:
            assert getattr(related, field.attname) == getattr(orm, field.attname)
    assert not hasattr(read, "_account__name")  # the columns became the relations


def test_the_deal_pages_reads_are_prepared_and_read_the_same() -> None:
    """Unlogged (as in production), the deal, its phase moves and its changes are read
    through prepared statements: the same values as the ORM's reads."""
    deal = OpportunityFactory.create(health_reasons=[{"code": "stale", "message": "Stale"}])
    PhaseTransition.objects.create(opportunity=deal, to_phase=1, cause="sync")
    ChangeEvent.objects.create(
        opportunity=deal, kind="amount_up", old_value="USD 1.00", new_value="USD 2.00"
    )
    expected = orm_read(deal.pk)

    for _ in range(2):
        read = Opportunity.objects.live_deal(deal.pk)
        assert read is not None
        for field in Opportunity._meta.concrete_fields:
            assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
        assert read.account == expected.account
        assert read.owner == expected.owner
        moves = PhaseTransition.objects.of_deal(deal.pk)
        assert [(m.pk, m.occurred_at, m.is_backwards) for m in moves] == [
            (m.pk, m.occurred_at, m.is_backwards)
            for m in PhaseTransition.objects.filter(opportunity=deal)
        ]
        changes = ChangeEvent.objects.newest_of_deal(deal.pk, 10)
        assert [(c.pk, c.kind, c.new_value) for c in changes] == [
            (c.pk, c.kind, c.new_value) for c in ChangeEvent.objects.filter(opportunity=deal)
        ]

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    for table in ("opportunity", "phasetransition", "changeevent"):
        assert len([s for s in prepared if f'FROM "opportunities_{table}"' in s]) == 1, table


def test_a_deal_without_account_or_owner_has_none_and_costs_no_query() -> None:
    deal = OpportunityFactory.create(account=None, owner=None)
    read = Opportunity.objects.live_deal(deal.pk)
    assert read is not None
    with CaptureQueriesContext(connection) as queries:
        assert read.account is None
        assert read.owner is None
    assert len(queries) == 0


@pytest.mark.parametrize("pk", ["deleted", 10**9, 0, -5, 2**63, 10**30, "12abc", None])
def test_no_deal_for_a_deleted_missing_or_impossible_id(pk: object) -> None:
    deleted = OpportunityFactory.create(is_deleted=True)
    assert Opportunity.objects.live_deal(deleted.pk if pk == "deleted" else pk) is None


def test_a_manager_reads_any_deal_in_one_query_a_rep_only_their_own_in_two() -> None:
    rep = UserFactory.create(role=Role.REP)
    manager = UserFactory.create(role=Role.MANAGER)
    own = OpportunityFactory.create(owner=CrmUserFactory.create(email=rep.email.upper()))
    other = OpportunityFactory.create()
    role_of(rep), role_of(manager)  # the role is read once a request, before the deal

    with CaptureQueriesContext(connection) as queries:
        assert deal_for(manager, other.pk) == other
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        read = deal_for(rep, own.pk)
        assert read == own
        assert can_edit_deal(rep, read)  # the same request asks again: answered already
    assert len(queries) == 2
    assert can_edit_deal(rep, Opportunity.objects.get(pk=own.pk))  # a deal read elsewhere
    assert not can_edit_deal(rep, Opportunity.objects.get(pk=other.pk))
    with pytest.raises(Http404):
        deal_for(rep, other.pk)


def test_a_login_without_a_role_sees_no_deal() -> None:
    deal = OpportunityFactory.create()
    with pytest.raises(Http404):
        deal_for(UserFactory.create(), deal.pk)


def test_it_refuses_a_filtered_queryset_rather_than_ignore_the_filter() -> None:
    deal = OpportunityFactory.create()
    with pytest.raises(TypeError):
        Opportunity.objects.filter(outcome="lost").live_deal(deal.pk)
