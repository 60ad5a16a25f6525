"""The URL of the database a connection uses, for a process the tests or benchmarks start.

A worker or a command started beside the test suite must reach the very database the suite
uses (its `test_…` database, on a PostgreSQL server or the embedded one's Unix socket): its
settings read that from DATABASE_URL.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django.db.backends.base.base import BaseDatabaseWrapper


def database_url(connection: BaseDatabaseWrapper, *, name: str | None = None) -> str:
    """postgres://… for `connection`'s database (or the database `name` on its server)."""
    params = connection.get_connection_params()
    user = quote(str(params.get("user") or ""), safe="")
    password = params.get("password")
    credentials = f"{user}:{quote(str(password), safe='')}" if password else user
    database = quote(name or str(params["dbname"]), safe="")
    host, port = str(params.get("host") or "127.0.0.1"), params.get("port") or 5432
    if host.startswith("/"):
        # A Unix socket's folder cannot stand in a URL's host: it goes in the query.
        return f"postgres://{credentials}@/{database}?{urlencode({'host': host, 'port': port})}"
    return f"postgres://{credentials}@{host}:{port}/{database}"
