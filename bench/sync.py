"""Full and incremental Zoho sync of 50,000 deals from the simulator, against its floor.

Runs the production path end to end: `sync.services.zoho_sync` with a `ZohoClient` talking
HTTP to the Zoho simulator, which serves from a separate process (`bench.zoho_process`) so
its CPU does not compete with the sync for the GIL. Rates come from the CurrencyFreaks
simulator through `fx_rates_refresh()` first, so deals convert as they would in production.
Everything happens in a database of its own (`<name>_bench`, dropped afterwards).

The floor is what no sync can avoid, measured in the same run: the pull alone (client and
simulator, no database) plus one raw COPY of the rows the sync stored. Targets: the full sync
at most 2x its floor and 300 MB peak RSS; a second full sync with nothing changed at most
1.5x the pull alone (it should cost little more than reading Zoho); an incremental sync with
10 changed deals at most 3 API calls. BENCH_SYNC_DEALS changes the number of deals (the
benchmark holds no more than a page of them at a time, so it runs at a million);
BENCH_SYNC_PROFILE=<file> runs the full sync under cProfile and writes its statistics there
(its times are then inflated, and the targets are not judged).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from bench import Table
from bench.copy_limit import copy_seconds, spool_rows
from bench.database import bench_database
from bench.instruments import (
    SqlTime,
    TimedSource,
    current_rss_mb,
    peak_rss_mb,
    profiled,
    sql_time,
)
from bench.zoho_process import SimulatorProcess, SimulatorStats
from currency.services import fx_rates_refresh
from opportunities.models import Opportunity
from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger
from sync.services import zoho_sync

DEALS = int(os.environ.get("BENCH_SYNC_DEALS", "50000"))
PROFILE_PATH = os.environ.get("BENCH_SYNC_PROFILE", "")
SEED = 7
CHANGED_DEALS = 10
TARGET_TIMES_FLOOR = 2.0
TARGET_REFULL_TIMES_PULL = 1.5
TARGET_MB = 300.0
TARGET_INCREMENTAL_CALLS = 3
COPY_REPEATS = 3
# The simulated org's data set is generated as of this long ago: its last edit is an hour
# old when the full sync runs. Generated as of now, 1,378 of its 50,000 deals would carry a
# Modified_Time in the last 5 minutes, and the first incremental run would re-read them all
# (the watermark never passes a run's start minus sync.services.CLOCK_MARGIN), measuring
# that margin instead of the 10 changed deals.
DATA_AGE = timedelta(hours=1)
CENT = Decimal("0.01")


@dataclass
class Measured:
    """One sync run as the table shows it."""

    label: str
    run: SyncRun
    seconds: float


def run() -> Table:
    with (
        SimulatorProcess(deals=DEALS, seed=SEED, data_age=DATA_AGE) as simulators,
        bench_database("bench"),
    ):
        return _measure(simulators)


def _measure(simulators: SimulatorProcess) -> Table:
    served = simulators.served
    assert served is not None
    rates = fx_rates_refresh(client=simulators.currencyfreaks_client())
    rss_before = current_rss_mb()

    # The full sync, timed with everything it does; the instruments only add up durations.
    source = TimedSource(simulators.zoho_client())
    simulator_before = simulators.stats()
    with sql_time() as sql, profiled(PROFILE_PATH):
        full = _sync(simulators, SyncKind.FULL, "full sync, every deal new", source=source)
    full_simulator = simulators.stats().since(simulator_before)
    full_rss = peak_rss_mb()
    _check(full.run, fetched=DEALS, created=DEALS)
    converted = Opportunity.objects.live().filter(amount_sgd__isnull=False).count()

    nothing = _sync(simulators, SyncKind.INCREMENTAL, "incremental, nothing changed")
    _check(nothing.run, fetched=0)
    changed_ids = _change_deals(simulators)
    changed = _sync(simulators, SyncKind.INCREMENTAL, f"incremental, {CHANGED_DEALS} deals changed")
    _check(changed.run, fetched=CHANGED_DEALS, updated=CHANGED_DEALS)
    pushed = Opportunity.objects.filter(zoho_id__in=changed_ids, closing_date_push_count=1)
    if pushed.count() != CHANGED_DEALS:
        raise RuntimeError("the changed deals' closing-date pushes were not recorded")
    again = _sync(
        simulators, SyncKind.INCREMENTAL, "incremental again at once (re-reads inside margin)"
    )
    _check(again.run, fetched=CHANGED_DEALS, updated=0)
    refull = _sync(simulators, SyncKind.FULL, "full sync again, nothing changed")
    _check(refull.run, fetched=DEALS, created=0, updated=0)
    refull_rss = peak_rss_mb()

    pull_seconds, pull_calls, pulled = _pull_alone(simulators)
    copy = _copy_limit()
    floor = pull_seconds + copy
    simulator_rss = simulators.stats().max_rss_mb

    table = Table(
        title=(
            f"Zoho sync, {connection.vendor}, {DEALS:,} deals from the simulator in its own "
            f"process (pid {simulators.pid}, started in {served.startup_seconds:.1f} s)"
        ),
        columns=(
            "run",
            "fetched",
            "API calls",
            "seconds",
            "deals/s",
            "peak RSS",
            "vs floor",
            "target",
            "result",
        ),
    )
    full_ok = full.seconds <= TARGET_TIMES_FLOOR * floor and full_rss <= TARGET_MB
    table.rows.append(
        _row(
            full,
            rss=f"{full_rss:.0f} MB (simulator {simulator_rss:.0f} MB)",
            versus=f"{full.seconds / floor:.1f}x",
            target=f"<= {TARGET_TIMES_FLOOR:g}x floor, <= {TARGET_MB:.0f} MB",
            result="profiled" if PROFILE_PATH else _verdict(full_ok),
        )
    )
    table.rows += [
        _limit_row("floor: pull alone + COPY", pulled, "-", floor, versus="1.0x"),
        _limit_row(
            "  Zoho pull alone (client + simulator, no DB)", pulled, str(pull_calls), pull_seconds
        ),
        _limit_row("  raw psycopg COPY of the same rows", pulled, "-", copy),
    ]
    for measured in (nothing, changed, again):
        calls_ok = measured.run.api_calls <= TARGET_INCREMENTAL_CALLS
        table.rows.append(
            _row(
                measured,
                target=f"<= {TARGET_INCREMENTAL_CALLS} calls",
                result=_verdict(calls_ok),
            )
        )
    refull_ok = refull.seconds <= TARGET_REFULL_TIMES_PULL * pull_seconds
    table.rows.append(
        _row(
            refull,
            rss=f"{refull_rss:.0f} MB",
            versus=f"{refull.seconds / pull_seconds:.1f}x pull",
            target=f"<= {TARGET_REFULL_TIMES_PULL:g}x pull alone",
            result="profiled" if PROFILE_PATH else _verdict(refull_ok),
        )
    )
    table.notes = _notes(
        full=full,
        source=source,
        sql=sql,
        simulator=full_simulator,
        rss_before=rss_before,
        converted=converted,
        rates=len(rates.stored),
    )
    return table


def _sync(
    simulators: SimulatorProcess, kind: str, label: str, *, source: TimedSource | None = None
) -> Measured:
    started = time.perf_counter()
    run = zoho_sync(
        kind=kind, trigger=SyncTrigger.COMMAND, source=source or simulators.zoho_client()
    )
    seconds = time.perf_counter() - started
    if run.status != SyncStatus.SUCCEEDED:
        raise RuntimeError(f"{label}: the sync failed: {run.error}")
    return Measured(label, run, seconds)


def _check(run: SyncRun, **expected: int) -> None:
    """A benchmark that measured the wrong thing must fail, not print a number."""
    actual = {name: getattr(run, name) for name in expected}
    if actual != expected:
        raise RuntimeError(f"sync run {run.pk} counted {actual}, expected {expected}")
    if run.failed or run.skipped:
        raise RuntimeError(f"sync run {run.pk}: {run.failed} failed, {run.skipped} skipped")


def _change_deals(simulators: SimulatorProcess) -> list[str]:
    """Push out the closing date and raise the amount of open deals spread over the org."""
    deals = Opportunity.objects.open().order_by("zoho_id")
    step = max(1, deals.count() // CHANGED_DEALS)
    # Every step-th open deal, read as a stream: the org may have a million.
    chosen = [
        deal
        for position, deal in enumerate(
            deals.values_list("zoho_id", "closing_date", "amount").iterator(chunk_size=10_000)
        )
        if position % step == 0
    ][:CHANGED_DEALS]
    if len(chosen) < CHANGED_DEALS:
        raise RuntimeError(f"only {len(chosen)} open deals to change")
    today = timezone.localdate()
    for zoho_id, closing_date, amount in chosen:
        changes: dict[str, Any] = {
            "Closing_Date": ((closing_date or today) + timedelta(days=30)).isoformat()
        }
        if amount is not None:
            changes["Amount"] = (amount * Decimal("1.1")).quantize(CENT)
        simulators.modify_deal(zoho_id, changes)
    return [zoho_id for zoho_id, _, _ in chosen]


def _pull_alone(simulators: SimulatorProcess) -> tuple[float, int, int]:
    """Seconds, API calls and deals of a full pull; each page is let go once counted."""
    client = simulators.zoho_client()
    started = time.perf_counter()
    deals = sum(len(page.deals) for page in client.iter_deal_pages())
    return time.perf_counter() - started, client.api_calls, deals


def _copy_limit() -> float:
    """Median seconds to COPY the synced rows back in, from a file on disk."""
    with tempfile.TemporaryFile(prefix="bench-sync-rows-") as spooled:
        rows = spool_rows(spooled)
        if rows != DEALS:
            raise RuntimeError(f"the deal table holds {rows:,} deals, not {DEALS:,}")
        return statistics.median(copy_seconds(spooled) for _ in range(COPY_REPEATS))


def _limit_row(
    label: str, deals: int, calls: str, seconds: float, *, versus: str = "-"
) -> tuple[str, ...]:
    return (
        label,
        f"{deals:,}",
        calls,
        f"{seconds:.2f}",
        f"{deals / seconds:,.0f}",
        "-",
        versus,
        "-",
        "-",
    )


def _row(
    measured: Measured, *, rss: str = "-", versus: str = "-", target: str = "-", result: str = "-"
) -> tuple[str, ...]:
    run = measured.run
    rate = f"{run.fetched / measured.seconds:,.0f}" if run.fetched else "-"
    return (
        measured.label,
        f"{run.fetched:,}",
        str(run.api_calls),
        f"{measured.seconds:.2f}",
        rate,
        rss,
        versus,
        target,
        result,
    )


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _notes(
    *,
    full: Measured,
    source: TimedSource,
    sql: SqlTime,
    simulator: SimulatorStats,
    rss_before: float,
    converted: int,
    rates: int,
) -> list[str]:
    run = full.run
    python_seconds = full.seconds - source.waiting_seconds - sql.seconds
    notes = [
        f"full sync: {run.pages} pages, {run.api_calls} API calls (retries included, token "
        f"mint not); {converted:,} of {run.fetched:,} deals converted to SGD with {rates} "
        "CurrencyFreaks rates",
        f"where the full sync's {full.seconds:.1f} s went: {source.waiting_seconds:.1f} s "
        f"waiting for Zoho pages (HTTP, JSON, parsing; the simulator spent "
        f"{simulator.serve_seconds:.1f} s building them and {simulator.cpu_seconds:.1f} s "
        f"of CPU in all), {sql.seconds:.1f} s in SQL ({sql.statements:,} statements: "
        f"psycopg adapting parameters and the server executing; commits excluded), "
        f"{python_seconds:.1f} s in the sync's own Python (conversion, placement, health "
        "rules, building the ORM's statements, progress)",
        "slowest SQL: "
        + "; ".join(f"{kind} {count}x {seconds:.2f} s" for kind, count, seconds in sql.slowest(6)),
        f"peak RSS is this process's high-water mark (tracemalloc is not used: it slows the "
        f"sync down); RSS before the full sync was {rss_before:.0f} MB, the simulator "
        f"process peaked at {simulator.max_rss_mb:.0f} MB",
        "the simulated org's deals were last edited an hour before the full sync, so the "
        "incremental runs see only the deals changed after it; 'again at once' re-reads "
        "them because the watermark never passes a run's start minus 5 minutes",
    ]
    if PROFILE_PATH:
        notes.append(f"the full sync ran under cProfile (times inflated): {PROFILE_PATH}")
    notes.append(
        f"COPY: median of {COPY_REPEATS} loads of every column of the {DEALS:,} synced rows "
        "(spooled to a file in COPY's text format first) into the emptied opportunities table, "
        "same indexes and constraints, rolled back; the sync also writes accounts, owners, "
        "phase transitions, change events and health, which COPY does not"
    )
    notes.append("")
    return notes
