"""The migrations benchmark's instruments: which migrations, the loader, rewrites and locks."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from bench.migrations import (
    TableState,
    load,
    newest_migrations,
    steps_asked,
    watching_locks,
    what_happened,
)
from pipeline_pulse.storage.database_url import database_url


def test_the_newest_migrations_oldest_first_each_with_the_one_before_it() -> None:
    migrations = newest_migrations("opportunities", 3)

    assert [m.name[:4] for m in migrations] == ["0014", "0015", "0016"]
    assert migrations[0].previous.startswith("0013")
    assert migrations[1].previous == migrations[0].name
    assert all(m.app == "opportunities" and m.reversible for m in migrations)
    assert newest_migrations("alerts", 5)[0].previous == "zero"


def test_steps_are_asked_per_app() -> None:
    assert steps_asked("opportunities=5, sync=2,") == {"opportunities": 5, "sync": 2}


def test_a_new_file_is_a_rewrite_and_a_doubled_heap_rows_rewritten() -> None:
    before = {
        "opportunities_opportunity": TableState(filenode=1, heap_bytes=100),
        "opportunities_changeevent": TableState(filenode=2, heap_bytes=100),
        "opportunities_pipelinemove": TableState(filenode=3, heap_bytes=100),
    }
    after = {
        "opportunities_opportunity": TableState(filenode=9, heap_bytes=100),
        "opportunities_changeevent": TableState(filenode=2, heap_bytes=200),
        "opportunities_phasetransition": TableState(filenode=4, heap_bytes=2**20),
    }

    said = what_happened(before, after)

    assert "opportunity REWRITTEN" in said
    assert "changeevent rows rewritten (heap +100%)" in said
    assert "phasetransition created (1 MB)" in said
    assert "pipelinemove dropped" in said
    assert what_happened(before, before) == "no big table touched"


@pytest.mark.django_db
def test_the_loader_fills_every_big_table_within_its_constraints() -> None:
    from opportunities.models import ChangeEvent, Opportunity, PipelineMove

    loaded = load(30)

    assert set(loaded.values()) == {30}
    assert Opportunity.objects.count() == 30
    assert Opportunity.objects.filter(zoho_values__has_key="Deal_Name").count() == 30
    assert ChangeEvent.objects.filter(kind="closing_date_pushed").count() == 3
    assert PipelineMove.objects.filter(kind="new").count() == 30


@pytest.mark.django_db
def test_the_lock_watch_sees_a_lock_that_blocks_reads_as_long_as_it_is_held() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with watching_locks(pid, database_url(connection)) as locks:
        time.sleep(0.1)  # nothing held yet
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE opportunities_opportunity IN ACCESS EXCLUSIVE MODE")
        time.sleep(0.3)

    assert 0.15 < locks.reads_blocked_seconds < 0.5
    assert locks.writes_blocked_seconds >= locks.reads_blocked_seconds
    assert locks.modes == {"opportunities_opportunity": {"AccessExclusiveLock"}}
