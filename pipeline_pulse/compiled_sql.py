"""SQL the ORM compiles once per process, for reads a page makes on every view.

Compiled once, such a read is also worth planning once: on PostgreSQL `prepared_raw` runs
it as a prepared statement, which each database connection plans the first time and then
only executes. For the deal page's read of one deal (three tables, two EXISTS flags) the
planning was about 0.6 ms of its 1.1 ms in the database, on every view (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, cast

from django.db import connections
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.models import Model, QuerySet
from django.db.models.query import RawQuerySet
from django.db.models.sql.query import RawQuery

M = TypeVar("M", bound=Model)


def sql_with_one_id(rows: QuerySet[Any]) -> str:
    """The SQL of `rows`, built with a placeholder id of 0 as its only parameter.

    For a read that only an id changes from one request to the next: kept (functools.cache)
    and run through `prepared_raw()` with the real id, it costs no compiling after the
    first time.
    """
    sql, params = rows.query.sql_with_params()
    if params != (0,):
        raise RuntimeError(f"the id should be the only parameter, not {params}")
    return sql


def prepared_raw(model: type[M], alias: str, sql: str, params: Sequence[Any]) -> RawQuerySet[M]:
    """`model.objects.using(alias).raw(sql, params)`, run as a prepared statement where the
    database and the settings allow it (PostgreSQL, `DATABASE_PREPARED_STATEMENTS`).

    Only for SQL the process keeps (`sql_with_one_id`): each connection keeps a plan per
    distinct text, up to psycopg's limit of 100.
    """
    query = _PreparedRawQuery(sql, alias, tuple(params))
    # RawQuerySet takes any RawQuery (the stubs say Query).
    return RawQuerySet(sql, model=model, query=cast(Any, query), params=tuple(params), using=alias)


class _PreparingCursor(ServerBindingCursor):
    """psycopg's server-side binding cursor, asked to prepare every statement it runs.

    psycopg ignores the request on a connection whose `prepare_threshold` is None: Django's
    default, kept when DATABASE_PREPARED_STATEMENTS is off (a pooler in transaction mode).
    """

    def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
        # The stubs declare the class without psycopg's cursor as its base.
        return super().execute(query, params, **{**options, "prepare": True})  # type: ignore[misc]


class _PreparedRawQuery(RawQuery):
    def _execute_query(self) -> None:
        connection = connections[self.using]
        # Where queries are logged (DEBUG, a test counting them), the read runs as any
        # other: Django's log takes a statement's text from psycopg, which keeps none for a
        # prepared one.
        if connection.vendor != "postgresql" or connection.queries_logged:
            super()._execute_query()  # type: ignore[misc]  # private: not in the stubs
            return
        # What connection.cursor() does, with psycopg's server-side binding cursor in place
        # of Django's client-side one (which cannot prepare): the same error wrapping and
        # execute wrappers around it.
        connection.ensure_connection()
        connection.validate_thread_sharing()
        self.cursor = connection.make_cursor(
            cast(Any, _PreparingCursor(connection.connection))  # type: ignore[call-arg]
        )
        self.cursor.execute(self.sql, self.params)
