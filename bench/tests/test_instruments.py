"""The benchmark instruments: statement kinds, SQL timing, waiting on a source."""

from __future__ import annotations

import pytest
from django.db import connection

from bench.instruments import TimedSource, sql_time, statement_kind
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from sync.tests.fakes import FakeDealSource, deal_record


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        (
            'INSERT INTO "opportunities_opportunity" ("zoho_id") SELECT * FROM UNNEST(%s)',
            "INSERT opportunities_opportunity",
        ),
        (
            'UPDATE "opportunities_opportunity" SET "phase_entered_at" = %s WHERE "id" IN (1)',
            "UPDATE opportunities_opportunity SET phase_entered_at",
        ),
        (
            'SELECT "sync_syncrun"."id" FROM "sync_syncrun" WHERE "status" = %s',
            "SELECT sync_syncrun",
        ),
        ('SAVEPOINT "s1_x1"', "SAVEPOINT"),
        ("", "?"),
    ],
)
def test_statement_kind_names_the_verb_the_table_and_an_update_s_first_column(
    sql: str, kind: str
) -> None:
    assert statement_kind(sql) == kind


@pytest.mark.django_db
def test_sql_time_counts_each_statement_by_kind() -> None:
    OpportunityFactory.create()
    with sql_time() as timing:
        list(Opportunity.objects.all())
        Opportunity.objects.update(phase=2)
        list(Opportunity.objects.all())

    counts = {kind: int(count) for kind, (count, _) in timing.by_statement.items()}
    assert counts == {
        "SELECT opportunities_opportunity": 2,
        "UPDATE opportunities_opportunity SET phase": 1,
    }
    assert timing.statements == 3
    assert timing.seconds > 0
    slowest = timing.slowest(2)
    assert {kind for kind, _, _ in slowest} == set(counts)
    assert slowest[0][2] >= slowest[1][2]


@pytest.mark.django_db
def test_sql_time_stops_counting_after_its_block() -> None:
    with sql_time() as timing:
        pass
    list(Opportunity.objects.all())
    assert timing.statements == 0
    assert connection.execute_wrappers == []


def test_timed_source_passes_pages_and_calls_through_and_adds_up_the_wait() -> None:
    deals = [deal_record(number) for number in range(5)]
    source = TimedSource(FakeDealSource(deals, page_size=2))

    pages = list(source.iter_deal_pages())
    deletions = list(source.iter_deleted_deals())

    assert [len(page.deals) for page in pages] == [2, 2, 1]
    assert [deal.zoho_id for page in pages for deal in page.deals] == [d.zoho_id for d in deals]
    assert deletions == []
    assert source.api_calls == 4  # three pages and the deletions
    assert source.waiting_seconds > 0
