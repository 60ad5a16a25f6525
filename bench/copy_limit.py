"""The sync benchmark's limit: the same deal rows loaded with one raw psycopg COPY.

No sync can store deals faster than PostgreSQL loads them in bulk, so the ratio of the sync's
time to this one says how much the sync spends beyond the unavoidable write.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from django.db import connection, transaction
from psycopg import sql
from psycopg.types.json import Jsonb

from opportunities.deal_fields import VALUE_FIELDS
from opportunities.models import Opportunity
from opportunities.records import DealRecord

Row = tuple[object, ...]


def copy_rows(records: Sequence[DealRecord]) -> tuple[list[str], list[Row]]:
    """Every column but the id of each synced deal, with Zoho's values as the client pulled them.

    What the sync computed (SGD amount, phase, health, ...) is read back from the table, so
    the COPY writes exactly as much as the sync wrote into it.
    """
    fields = [field for field in Opportunity._meta.concrete_fields if not field.primary_key]
    names = [field.attname for field in fields]
    zoho_id_position = names.index("zoho_id")
    stored = {
        row[zoho_id_position]: row
        for row in Opportunity.objects.order_by().values_list(*names).iterator(chunk_size=5000)
    }
    pulled_positions = [(name, names.index(name)) for name in VALUE_FIELDS]
    rows: list[Row] = []
    for record in records:
        synced = stored.get(record.zoho_id)
        if synced is None:
            raise RuntimeError(f"deal {record.zoho_id} was pulled but the sync did not store it")
        row = list(synced)
        for name, position in pulled_positions:
            row[position] = getattr(record, name)
        rows.append(tuple(_adapted(value) for value in row))
    return [str(field.column) for field in fields], rows


def _adapted(value: object) -> object:
    # JSON columns come back from the ORM as Python objects; COPY needs them marked as JSON.
    return Jsonb(value) if isinstance(value, dict | list) else value


def copy_seconds(columns: Sequence[str], rows: Sequence[Row]) -> float:
    """Seconds to COPY the rows into the emptied deal table; everything is rolled back."""
    table = sql.Identifier(Opportunity._meta.db_table)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        table, sql.SQL(", ").join(sql.Identifier(column) for column in columns)
    )
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no COPY
        # Emptied, not dropped: the COPY maintains the same indexes and checks the same
        # constraints and foreign keys as the sync's upserts did.
        # A caller's transaction may hold deferred foreign-key checks, which forbid TRUNCATE.
        raw.execute("SET CONSTRAINTS ALL IMMEDIATE")
        raw.execute(sql.SQL("TRUNCATE {} CASCADE").format(table))
        started = time.perf_counter()
        with raw.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed
