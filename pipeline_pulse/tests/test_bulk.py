"""Bulk helpers: the one-statement update writes values exactly as save() would; chunks and
keyset pages cover every row once."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from pipeline_pulse.storage.bulk import id_chunks, keyset_pages, rows_update

pytestmark = pytest.mark.django_db
WHEN = datetime(2026, 6, 15, 0, 30, tzinfo=ZoneInfo("Asia/Singapore"))


def test_writes_json_datetimes_decimals_and_nulls_in_one_statement() -> None:
    first, second, untouched = OpportunityFactory.create_batch(3, amount_sgd=Decimal("1.00"))
    reasons = [{"code": "x", "severity": "warning", "message": "Ünïcode \"quoted\" 'text'"}]
    with CaptureQueriesContext(connection) as queries:
        written = rows_update(
            Opportunity,
            fields=("health_status", "health_reasons", "health_computed_at", "amount_sgd"),
            rows=[
                (first.pk, "warning", reasons, WHEN, Decimal("12345678.91")),
                (second.pk, "danger", [], None, None),
            ],
        )
    assert written == 2
    assert len(queries) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    untouched.refresh_from_db()
    assert (first.health_status, first.health_reasons) == ("warning", reasons)
    assert (first.health_computed_at, first.amount_sgd) == (WHEN, Decimal("12345678.91"))
    assert (second.health_status, second.health_reasons, second.health_computed_at) == (
        "danger",
        [],
        None,
    )
    assert second.amount_sgd is None
    assert untouched.health_status == "neutral"


def test_nothing_to_write_costs_nothing() -> None:
    with CaptureQueriesContext(connection) as queries:
        assert rows_update(Opportunity, fields=("health_status",), rows=[]) == 0
    assert len(queries) == 0


def test_any_number_of_rows_is_one_statement() -> None:
    deals = OpportunityFactory.create_batch(5)
    with CaptureQueriesContext(connection) as queries:
        written = rows_update(
            Opportunity, fields=("health_status",), rows=[(d.pk, "success") for d in deals]
        )
    assert (written, len(queries)) == (5, 1)
    assert Opportunity.objects.filter(health_status="success").count() == 5


def test_id_chunks_are_unique_ascending_and_bounded() -> None:
    assert list(id_chunks([5, 3, 9, 3, 1, 7, 2], size=3)) == [[1, 2, 3], [5, 7, 9]]
    assert list(id_chunks([], size=3)) == []


def test_keyset_pages_visit_every_row_once_in_a_query_per_page() -> None:
    users = [User.objects.create(username=f"keyset{n}") for n in range(7)]
    rows = User.objects.filter(username__startswith="keyset")
    with CaptureQueriesContext(connection) as queries:
        pages = list(keyset_pages(rows, size=3))
    assert [[user.pk for user in page] for page in pages] == [
        [user.pk for user in users[start : start + 3]] for start in (0, 3, 6)
    ]
    assert len(queries) == 3
    as_dicts = list(keyset_pages(rows.values("id", "username"), size=4))
    assert [len(page) for page in as_dicts] == [4, 3]
    flat = list(keyset_pages(rows.values_list("pk", flat=True), size=7))
    # A full last page costs one more (empty) query to know it was the last.
    assert flat == [[user.pk for user in users]]
