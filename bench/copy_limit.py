"""The sync benchmark's limit: the synced deal rows loaded again with one raw psycopg COPY.

No sync can store deals faster than PostgreSQL loads them in bulk, so the ratio of the sync's
time to this one says how much the sync spends beyond the unavoidable write.

The rows go through a file, not a Python list: at a million deals a list of rows would hold
gigabytes in the benchmark's process and its peak RSS would measure the benchmark, not the
sync.
"""

from __future__ import annotations

import time
from typing import IO

from django.db import connection, transaction
from psycopg import sql

from opportunities.models import Opportunity

# What the COPY is fed at a time: large enough that the loop costs nothing beside the load.
BLOCK_BYTES = 1 << 20


def copy_columns() -> list[str]:
    """Every column of the deal table but the id: what the sync writes."""
    return [
        str(field.column) for field in Opportunity._meta.concrete_fields if not field.primary_key
    ]


def spool_rows(into: IO[bytes]) -> int:
    """Write every stored deal's `copy_columns()` into `into`, in COPY's text format.

    The rows are the sync's own: Zoho's values as it stored them and what it computed (SGD
    amount, phase, health, ...), so the COPY writes exactly as much as the sync wrote.
    Returns the number of rows.
    """
    table = sql.Identifier(Opportunity._meta.db_table)
    columns = sql.SQL(", ").join(sql.Identifier(column) for column in copy_columns())
    statement = sql.SQL("COPY (SELECT {} FROM {} ORDER BY id) TO STDOUT").format(columns, table)
    rows = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no COPY
        with raw.copy(statement) as copy:
            for block in copy:
                into.write(block)
                rows += bytes(block).count(b"\n")
    into.flush()
    return rows


def copy_seconds(spooled: IO[bytes]) -> float:
    """Seconds to COPY the spooled rows into the emptied deal table; all rolled back."""
    table = sql.Identifier(Opportunity._meta.db_table)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        table, sql.SQL(", ").join(sql.Identifier(column) for column in copy_columns())
    )
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        # Emptied, not dropped: the COPY maintains the same indexes and checks the same
        # constraints and foreign keys as the sync's upserts did.
        # A caller's transaction may hold deferred foreign-key checks, which forbid TRUNCATE.
        raw.execute("SET CONSTRAINTS ALL IMMEDIATE")
        raw.execute(sql.SQL("TRUNCATE {} CASCADE").format(table))
        spooled.seek(0)
        started = time.perf_counter()
        with raw.copy(statement) as copy:
            while block := spooled.read(BLOCK_BYTES):
                copy.write(block)
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed
