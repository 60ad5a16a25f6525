"""Work that must run in one process at a time across every host: a session advisory lock.

The lock belongs to the database connection that took it, and PostgreSQL releases it the
moment that connection ends, cleanly or not: a worker killed mid-run never blocks the next
run. It needs a direct connection or a pooler in session mode (docs/deployment.md). The
sync's lock (sync/run_lock.py) and the nightly run's and the notification channel's
(`advisory_lock_try`) are all taken here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


def advisory_lock_take(key: int) -> bool:
    """Take lock `key` for this connection, or False if any session holds it.

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
        return bool(cursor.fetchone()[0])


def advisory_lock_release(key: int) -> None:
    """Give lock `key` back; nothing happens when this connection does not hold it."""
    if connection.connection is None:
        return  # closed: the database released the lock with the session
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_unlock(%s) FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid() AND granted AND classid = 0 AND objid = %s",
            [key, key],
        )


@contextmanager
def advisory_lock_try(key: int) -> Iterator[bool]:
    """Hold lock `key` for the block if no session holds it; yields whether it was taken."""
    taken = advisory_lock_take(key)
    try:
        yield taken
    finally:
        if taken:
            advisory_lock_release(key)
