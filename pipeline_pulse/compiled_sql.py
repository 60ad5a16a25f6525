"""SQL the ORM compiles once per process, for reads a page makes on every view."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet


def sql_with_one_id(rows: QuerySet[Any]) -> str:
    """The SQL of `rows`, built with a placeholder id of 0 as its only parameter.

    For a read that only an id changes from one request to the next: kept (functools.cache)
    and run through `raw()` with the real id, it costs no compiling after the first time.
    """
    sql, params = rows.query.sql_with_params()
    if params != (0,):
        raise RuntimeError(f"the id should be the only parameter, not {params}")
    return sql
