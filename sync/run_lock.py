"""The one-sync-at-a-time lock that dies with its process: a PostgreSQL advisory lock.

A session-level advisory lock is held by the database connection that took it and released
by the database as soon as that connection ends, cleanly or not. A sync run takes it when it
starts and releases it when it ends; a process killed mid-run releases it by dying.

Connection poolers in transaction mode (PgBouncer) hand sessions around and break session
locks: point the workers at PostgreSQL directly or use session pooling.
"""

from __future__ import annotations

from pipeline_pulse.storage.advisory_locks import advisory_lock_release, advisory_lock_take

# One fixed key for the whole installation ("SYNC" in ASCII).
LOCK_KEY = 0x53594E43


def acquire() -> bool:
    """Take the lock for this connection, or False if another session (or this one) holds it."""
    return advisory_lock_take(LOCK_KEY)


def release() -> None:
    """Give the lock back (a no-op when this connection does not hold it)."""
    advisory_lock_release(LOCK_KEY)
