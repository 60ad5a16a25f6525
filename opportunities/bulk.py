"""Write different values to many rows with one UPDATE ... FROM (VALUES ...) statement.

Django's bulk_update builds one CASE expression per column and row, which PostgreSQL plans
slowly for thousands of rows; a joined VALUES list is what a person would write by hand. The
same SQL runs on PostgreSQL and on SQLite 3.33+ (the embedded demo database).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model

# SQLite's default limit on bound parameters in one statement (SQLITE_MAX_VARIABLE_NUMBER).
_MAX_PARAMETERS = 32_000


def rows_update(
    model: type[Model], *, fields: Sequence[str], rows: Sequence[Sequence[object]]
) -> int:
    """Set `fields` of each row given as (primary key, value, value, ...); return rows written.

    One statement for up to ~32,000 values (SQLite's limit on bound parameters); more rows
    are split into as few statements as that allows. Values go through each field's own
    database preparation (JSON, aware datetimes, decimals), as `Model.save()` writes them.
    """
    per_statement = max(1, _MAX_PARAMETERS // (len(fields) + 1))
    return sum(
        _update_statement(model, fields, rows[start : start + per_statement])
        for start in range(0, len(rows), per_statement)
    )


def _update_statement(
    model: type[Model], fields: Sequence[str], rows: Sequence[Sequence[object]]
) -> int:
    opts = model._meta
    pk = opts.pk
    if pk is None:
        raise TypeError(f"{model.__name__} has no primary key")
    targets: list[Field[object, object]] = [opts.get_field(name) for name in fields]  # type: ignore[misc]
    width = len(targets) + 1

    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    aliases = ["k", *(f"c{i}" for i in range(len(targets)))]

    def typed(field: Field[object, object], alias: str) -> str:
        # PostgreSQL types a VALUES list from its literals (text); SQLite needs no casts.
        if connection.vendor == "postgresql":
            return f"CAST(v.{alias} AS {field.db_type(connection)})"
        return f"v.{alias}"

    table = quote(opts.db_table)
    assignments = ", ".join(
        f"{quote(field.column)} = {typed(field, alias)}"
        for field, alias in zip(targets, aliases[1:], strict=True)
    )
    row_sql = "(" + ", ".join(["%s"] * width) + ")"
    # Only quoted table and column names from the model's metadata are formatted into the SQL;
    # every value is a bound parameter.
    sql = (
        f"WITH v ({', '.join(aliases)}) AS (VALUES {', '.join([row_sql] * len(rows))}) "  # noqa: S608
        f"UPDATE {table} SET {assignments} "
        f"FROM v WHERE {table}.{quote(pk.column)} = {typed(pk, 'k')}"  # nosec B608
    )
    params: list[Any] = []
    for row in rows:
        params.append(pk.get_db_prep_value(row[0], connection))
        for field, value in zip(targets, row[1:], strict=True):
            params.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
