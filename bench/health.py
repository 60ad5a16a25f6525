"""Recompute health for 100,000 deals against one set-based SQL UPDATE of the same rows.

Runs in a database of its own (`<name>_bench`, created and dropped here), filled with a mix of
deals that exercises every rule. Targets: at most 2x the set-based UPDATE, which writes the
same columns of the same rows and so grows with the table as the recompute does, and 300 MB
peak memory whatever the number of deals (the recompute works in chunks). Set
BENCH_HEALTH_DEALS to change the number of deals (a million is what the largest orgs have).
"""

from __future__ import annotations

import os
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from bench import Table
from bench.database import bench_database

DEALS = int(os.environ.get("BENCH_HEALTH_DEALS", "100000"))
INSERT_BATCH = 5000
REPEATS = 3
TARGET_TIMES_UPDATE = 2.0
TARGET_MB = 300.0


def _deal(i: int, today: date, now: datetime) -> Any:
    from opportunities.models import Opportunity

    # Spread the deals over every rule and state: overdue, milestones of every age, missing
    # data, won and lost, stale and fresh.
    phase = 1 + i % 4
    milestone = today - timedelta(days=i % 90)
    return Opportunity(
        zoho_id=f"bench-{i}",
        name=f"Bench deal {i}",
        stage="Qualification",
        probability=(i * 7) % 101,
        amount=Decimal(1000 + i % 50_000),
        amount_sgd=None if i % 37 == 0 else Decimal(1350 + i % 60_000),
        currency="USD",
        closing_date=None if i % 53 == 0 else today + timedelta(days=(i % 120) - 30),
        zoho_modified_time=now - timedelta(days=i % 40),
        phase=phase,
        outcome="won" if i % 10 == 0 else "open",  # lost deals are not rescored nightly
        proposal_submitted_on=milestone if phase >= 3 else None,
        po_received_on=milestone if phase == 4 else None,
        kickoff_on=milestone + timedelta(days=10) if phase == 4 and i % 3 else None,
        invoiced_on=milestone + timedelta(days=20) if phase == 4 and i % 3 == 2 else None,
        closing_date_push_count=i % 4,
    )


def _fill() -> float:
    from opportunities.models import Opportunity

    today, now = timezone.localdate(), timezone.now()
    started = time.perf_counter()
    for start in range(0, DEALS, INSERT_BATCH):
        batch = [_deal(i, today, now) for i in range(start, min(start + INSERT_BATCH, DEALS))]
        Opportunity.objects.bulk_create(batch)
    return time.perf_counter() - started


def _vacuum() -> None:
    # Each run leaves a dead version of every row; vacuum so the next run starts level.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE opportunities_opportunity")


@contextmanager
def _counting_queries() -> Iterator[list[int]]:
    count = [0]

    def counter(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        count[0] += 1
        return execute(sql, params, many, ctx)

    with connection.execute_wrapper(counter):
        yield count


def _set_based_update() -> int:
    """The limit: one UPDATE writing the same three columns of the same rows."""
    sql = (
        "UPDATE opportunities_opportunity SET health_status = %s, health_reasons = %s, "
        "health_computed_at = %s WHERE is_deleted = %s AND outcome <> %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ["success", "[]", timezone.now(), False, "lost"])
        return int(cursor.rowcount)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _timed(action: Callable[[], Any]) -> tuple[float, Any, int]:
    """Seconds, result and queries of one run, started on a freshly vacuumed table."""
    _vacuum()
    with _counting_queries() as queries:
        started = time.perf_counter()
        outcome = action()
        elapsed = time.perf_counter() - started
    return elapsed, outcome, queries[0]


def _measure() -> Table:
    from opportunities.services import health_recompute

    fill_seconds = _fill()

    # The machine is shared: each run is repeated and the median reported, the fastest beside it.
    runs = [_timed(health_recompute) for _ in range(REPEATS)]
    _, result, query_count = runs[0]
    seconds = sorted(elapsed for elapsed, _, _ in runs)
    rss_mb = _peak_rss_mb()
    limits = [_timed(_set_based_update) for _ in range(REPEATS)]
    limit_seconds = sorted(elapsed for elapsed, _, _ in limits)
    limit_rows = limits[0][1]

    # One more run under tracemalloc (which slows Python down) for the peak of what the
    # recompute itself allocates, apart from the interpreter and Django already loaded.
    tracemalloc.start()
    health_recompute()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    traced_mb = traced_peak / 2**20

    median, limit_median = statistics.median(seconds), statistics.median(limit_seconds)
    ok = median <= TARGET_TIMES_UPDATE * limit_median and max(rss_mb, traced_mb) <= TARGET_MB
    table = Table(
        title=(
            f"Health recompute, {connection.vendor}, chunks of {settings.HEALTH_CHUNK_SIZE} "
            f"({DEALS:,} deals inserted in {fill_seconds:.1f} s; median of {REPEATS} runs)"
        ),
        columns=(
            "run",
            "deals",
            "seconds",
            "fastest",
            "deals/s",
            "peak memory",
            "queries",
            "vs UPDATE",
        ),
    )
    table.rows.append(
        (
            "health_recompute()",
            f"{result.deals:,}",
            f"{median:.2f}",
            f"{seconds[0]:.2f}",
            f"{result.deals / median:,.0f}",
            f"{traced_mb:.0f} MB traced, {rss_mb:.0f} MB RSS",
            f"{query_count}",
            f"{median / limit_median:.1f}x",
        )
    )
    table.rows.append(
        (
            "one set-based UPDATE (limit)",
            f"{limit_rows:,}",
            f"{limit_median:.2f}",
            f"{limit_seconds[0]:.2f}",
            f"{limit_rows / limit_median:,.0f}",
            "-",
            "1",
            "1.0x",
        )
    )
    table.notes = [
        f"states: {result.counts()}",
        "peak memory: traced = Python allocations of the recompute (tracemalloc, extra run); "
        "RSS = the whole process's high-water mark, Django and the bulk insert included",
        f"target: <= {TARGET_TIMES_UPDATE:g}x the set-based UPDATE and <= {TARGET_MB:.0f} MB: "
        + ("met" if ok else "NOT MET"),
        "",
    ]
    return table


def run() -> Table:
    """Create the benchmark database, measure, and drop it whatever happens."""
    with bench_database("bench"):
        return _measure()
