"""The one-sync-at-a-time lock that dies with its process: a PostgreSQL advisory lock.

A session-level advisory lock is held by the database connection that took it and released
by the database as soon as that connection ends, cleanly or not. A sync run takes it when it
starts and releases it when it ends; a process killed mid-run releases it by dying.

Connection poolers in transaction mode (PgBouncer) hand sessions around and break session
locks: point the workers at PostgreSQL directly or use session pooling.
"""

from __future__ import annotations

from django.db import connection

# One fixed key for the whole installation ("SYNC" in ASCII).
LOCK_KEY = 0x53594E43


def acquire() -> bool:
    """Take the lock for this connection, or False if another session (or this one) holds it.

    Session locks are re-entrant in PostgreSQL: a session that already holds it is refused
    here too, since that means a run of this very thread is still going.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid() AND granted AND classid = 0 AND objid = %s)",
            [LOCK_KEY],
        )
        if cursor.fetchone()[0]:
            return False
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
        return bool(cursor.fetchone()[0])


def release() -> None:
    """Give the lock back (a no-op when this connection does not hold it)."""
    if connection.connection is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_unlock(%s) FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid() AND granted AND classid = 0 AND objid = %s",
            [LOCK_KEY, LOCK_KEY],
        )
