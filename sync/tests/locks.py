"""What the tests ask of the sync lock that the product never needs to."""

from django.db import connection

from sync.run_lock import LOCK_KEY


def sync_lock_held_elsewhere() -> bool:
    """Whether a live session other than this test's holds this database's sync lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            # Advisory locks belong to a database: another database on the same server (a
            # staging copy, another checkout's tests) holding its own is no concern here.
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND pid <> pg_backend_pid() AND granted AND classid = 0 AND objid = %s)",
            [LOCK_KEY],
        )
        return bool(cursor.fetchone()[0])
