"""Write many rows in one statement: UPDATE ... FROM, or INSERT ... ON CONFLICT (upsert).

Django's bulk_update builds one CASE expression per column and row, which PostgreSQL plans
slowly for thousands of rows; a joined list of values is what a person would write by hand.
An update gets the rows as one JSON document (`FROM json_to_recordset(...)`): a single
parameter however many rows, so the driver neither interpolates thousands of placeholders nor
escapes thousands of array elements. An upsert, which writes every column, copies its rows
(`COPY`) into a temporary table and inserts from there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from functools import partial
from typing import Any

import psycopg
from django.db import DatabaseError, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, JSONField, Model, QuerySet
from psycopg.types.json import Jsonb


def id_chunks(ids: Iterable[int], *, size: int) -> Iterator[list[int]]:
    """The given primary keys, unique and ascending, in chunks of at most `size`."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), max(1, size)):
        yield ordered[start : start + size]


def keyset_pages(rows: QuerySet[Any], *, size: int) -> Iterator[list[Any]]:
    """Every row of a queryset, a page of at most `size` at a time, in primary-key order.

    One query a page (`pk > last`, never OFFSET): rows added or removed while the caller works
    on a page never shift the next one, memory holds one page, and the number of queries
    grows with rows / size, never with rows. Rows may be model instances, `values()` dicts
    (with "id") or flat `values_list("pk")` keys.
    """
    if size < 1:
        raise ValueError("page size must be at least 1")
    ordered = rows.order_by("pk")
    last: Any = None
    while True:
        page = list((ordered if last is None else ordered.filter(pk__gt=last))[:size])
        if page:
            yield page
        if len(page) < size:
            return
        last = _key(page[-1])


def _key(row: Any) -> Any:
    if isinstance(row, Model):
        return row.pk
    if isinstance(row, dict):
        return row["id"]
    return row


def rows_update(
    model: type[Model], *, fields: Sequence[str], rows: Sequence[Sequence[object]]
) -> int:
    """Set `fields` of each row given as (primary key, value, value, ...); return rows written.

    One statement. Values go through each field's own database preparation (aware datetimes,
    decimals, JSON), as `save()` does.
    """
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    opts = model._meta
    pk = opts.pk
    if pk is None:
        raise TypeError(f"{model.__name__} has no primary key")
    targets: list[Field[Any, Any]] = [opts.get_field(name) for name in fields]  # type: ignore[misc]
    return _update_from_json(connection, opts.db_table, pk, targets, rows)


def rows_upsert(
    model: type[Model],
    *,
    rows: Sequence[Mapping[str, object]],
    unique_field: str,
    update_fields: Sequence[str],
) -> dict[Any, Any]:
    """Insert these rows, or update `update_fields` where `unique_field` already exists; the
    primary key of every row written, by its `unique_field` value.

    A row gives values by attribute name (`account_id` for a foreign key), as the model
    holds them (aware datetimes, Decimals, JSON-serialisable objects); a field it leaves out
    takes the value a new instance starts with. The rows are copied with `COPY` into a
    temporary table shaped like the model's, then one `INSERT ... SELECT ... ON CONFLICT DO
    UPDATE ... RETURNING` moves them: COPY takes Python's values as they are, without a
    statement built or a field's preparation called per value. Runs in the caller's
    transaction (one is opened if there is none: the temporary table lives until commit).
    """
    if not rows:
        return {}
    connection = connections[router.db_for_write(model)]
    opts = model._meta
    pk = opts.pk
    if pk is None:
        raise TypeError(f"{model.__name__} has no primary key")
    columns: list[Field[Any, Any]] = [
        field for field in opts.concrete_fields if not field.primary_key and not field.generated
    ]
    blank = model()
    defaults = [getattr(blank, field.attname) for field in columns]
    quote = connection.ops.quote_name
    table = quote(opts.db_table)
    # Not the table's own name: a temporary table shadows a permanent one of the same name.
    staged = quote(f"staged_{opts.db_table}")
    names = ", ".join(quote(str(field.column)) for field in columns)

    def column(name: str) -> str:
        return quote(str(opts.get_field(name).column))  # type: ignore[union-attr]

    # Only quoted names from the model's metadata go into the SQL text; the values travel
    # through COPY.
    create = " ".join(
        (
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staged} ON COMMIT DROP",
            f"AS SELECT {names} FROM {table} WITH NO DATA",  # noqa: S608  # nosec B608
        )
    )
    # Emptied as it is read, so the next call in the same transaction starts from nothing.
    move = " ".join(
        (
            f"WITH page AS (DELETE FROM {staged} RETURNING *)",  # noqa: S608  # nosec B608
            f"INSERT INTO {table} ({names}) SELECT {names} FROM page",  # noqa: S608  # nosec B608
            f"ON CONFLICT ({column(unique_field)}) DO UPDATE SET",
            ", ".join(f"{column(name)} = EXCLUDED.{column(name)}" for name in update_fields),
            f"RETURNING {column(unique_field)}, {quote(str(pk.column))}",
        )
    )
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        cursor.execute(create)
        try:
            # psycopg's own cursor: Django's wrapper has no COPY.
            with cursor.cursor.copy(f"COPY {staged} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(
                        [
                            _copy_value(field, row.get(field.attname, default))
                            for field, default in zip(columns, defaults, strict=True)
                        ]
                    )
        except (psycopg.Error, UnicodeEncodeError) as exc:
            # Outside Django's cursor nothing turns psycopg's errors into Django's: a value
            # the database refuses (a NUL in text) or that cannot be encoded (a lone
            # surrogate) is raised as a refused statement is, for callers to handle alike.
            raise DatabaseError(str(exc)) from exc
        cursor.execute(move)
        return dict(cursor.fetchall())


def _copy_value(field: Field[Any, Any], value: object) -> object:
    """A value as COPY writes it into the field's column: JSON fields as jsonb documents."""
    if isinstance(field, JSONField) and value is not None:
        encoder = field.encoder
        return Jsonb(value, dumps=partial(json.dumps, cls=encoder) if encoder else None)
    return value


def _execute(connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _update_from_json(
    connection: BaseDatabaseWrapper,
    table: str,
    pk: Field[Any, Any],
    targets: list[Field[Any, Any]],
    rows: Sequence[Sequence[object]],
) -> int:
    quote = connection.ops.quote_name
    columns = [pk, *targets]
    aliases = ["k", *(f"c{i}" for i in range(len(targets)))]
    document, record = _recordset(connection, aliases, columns, rows)
    assignments = ", ".join(
        f"{quote(str(field.column))} = v.{alias}"
        for field, alias in zip(targets, aliases[1:], strict=True)
    )
    # Only quoted names and column types from the model's metadata go into the SQL text;
    # the values are one bound parameter.
    sql = " ".join(
        (
            f"UPDATE {quote(table)} SET {assignments}",  # noqa: S608  # nosec B608
            f"FROM json_to_recordset(%s::json) AS v ({record})",
            f"WHERE {quote(table)}.{quote(str(pk.column))} = v.k",
        )
    )
    return _execute(connection, sql, [document])


def _recordset(
    connection: BaseDatabaseWrapper,
    aliases: Sequence[str],
    columns: Sequence[Field[Any, Any]],
    rows: Iterable[Sequence[object]],
) -> tuple[str, str]:
    """The rows as one JSON document, and the record definition json_to_recordset reads."""
    document = json.dumps(
        [
            {
                alias: _json_value(connection, field, value)
                for alias, field, value in zip(aliases, columns, row, strict=True)
            }
            for row in rows
        ],
        separators=(",", ":"),
    )
    record = ", ".join(
        f"{alias} {field.db_type(connection)}"
        for alias, field in zip(aliases, columns, strict=True)
    )
    return document, record


def _json_value(connection: BaseDatabaseWrapper, field: Field[Any, Any], value: object) -> Any:
    """A value as PostgreSQL reads it back from JSON into the column's type, losslessly."""
    if isinstance(field, JSONField):
        return value  # nested as it is: a json column of the record takes it whole
    prepared = field.get_db_prep_save(value, connection)
    if isinstance(prepared, datetime | date | time):
        return prepared.isoformat()  # with its offset and microseconds
    if isinstance(prepared, Decimal):
        return str(prepared)  # text, not a float: numeric reads it exactly
    return prepared
