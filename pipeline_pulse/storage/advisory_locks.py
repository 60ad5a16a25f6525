"""Work that must run in one process at a time across every host: a session advisory lock.

The lock belongs to the database connection that took it, and PostgreSQL releases it the
moment that connection ends, cleanly or not: a worker killed mid-run never blocks the next
run. Like the sync's lock (sync/run_lock.py) it needs a direct connection or a pooler in
session mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def advisory_lock_try(key: int) -> Iterator[bool]:
    """Take lock `key` for the block if no session holds it; yields whether it was taken.

    A session that already holds it is refused too (PostgreSQL's session locks are
    re-entrant): that means a run of this very process is still going.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid() AND granted AND classid = 0 AND objid = %s) "
            "AND pg_try_advisory_lock(%s)",
            [key, key],
        )
        taken = bool(cursor.fetchone()[0])
    try:
        yield taken
    finally:
        if taken:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
