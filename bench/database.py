"""A database of a benchmark's own: created and migrated on entry, dropped on exit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.test.utils import setup_databases, teardown_databases


@contextmanager
def bench_database(suffix: str) -> Iterator[str]:
    """Run the block in `<DATABASE name>_<suffix>`, never in the configured database itself.

    Yields the benchmark database's name. Whatever happens in the block, the database is
    dropped and the connection points back at the configured one.
    """
    database = settings.DATABASES["default"]
    previous_test_settings = database.get("TEST", {})
    bench_name = f"{database['NAME']}_{suffix}"
    database["TEST"] = {**previous_test_settings, "NAME": bench_name}
    old_config = setup_databases(
        verbosity=0, interactive=False, keepdb=False, serialized_aliases=set()
    )
    try:
        yield bench_name
    finally:
        teardown_databases(old_config, verbosity=0)
        database["TEST"] = previous_test_settings
