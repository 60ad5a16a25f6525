"""Work that must happen now and once more when the surrounding transaction commits."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction


def now_and_on_commit(action: Callable[[], object]) -> None:
    """Run `action` now and, inside a transaction, again once it commits.

    For forgetting cached reads of rows being written: a request that reads between the
    write and the commit still sees the old rows and may cache them again; the second run
    forgets that too. Outside a transaction the rows are already committed: once is enough.
    """
    action()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(action)
