"""The soak: the fleet of `scaleout` (bench.fleet) running for BENCH_SOAK_MINUTES (30) over
BENCH_SOAK_DEALS (20,000) deals, the way a working day uses it, and whether anything grows.

Meanwhile: beat sends the incremental sync every BENCH_SOAK_SYNC_SECONDS (30) as deployed;
the simulated sales team edits deals in Zoho (a round of one to three edits every 20 s of
its clock); Zoho calls the first web server back for every change (its notification
channel, which the workers subscribe at start); a Manager edits a deal through the web every
BENCH_SOAK_EDIT_SECONDS (10), each pushed by the product; and 16 clients read the
dashboard, the board and deal pages on both web servers.

Reported, with a verdict each: requests and errors per page (any answer other than 2xx or
3xx is an error), p50 and p95; the edits made against the edits found in Zoho at the end
(an edit the team overwrote in Zoho afterwards counts as superseded, not lost); every
process's resident memory at the start (after the first BENCH_SOAK_WARMUP_MINUTES, a fifth
of the run by default), the end and its peak (flat: the end within 20 % or 10 MB of the
start); the database's connections, least and most (bounded by deployment.md's budget); the
sync runs, failed and left running; Zoho's notifications answered.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from bench import Table
from bench.database import bench_database
from bench.fleet import Fleet, running_fleet
from bench.fleet_clients import edit_deal, login, read_pages, session_cookie
from bench.fleet_instruments import Memory, PageLog, Sampler, Samples, verdict
from bench.fleet_processes import tree_rss_mb
from bench.scaleout import fill, reading_pages
from bench.zoho_process import SimulatorProcess
from opportunities.models import Opportunity
from opportunities.roles import Role
from pipeline_pulse.storage.database_url import database_url
from sync.models import SyncRun, SyncStatus

MINUTES = float(os.environ.get("BENCH_SOAK_MINUTES", "30"))
DEALS = int(os.environ.get("BENCH_SOAK_DEALS", "20000"))
SYNC_SECONDS = int(os.environ.get("BENCH_SOAK_SYNC_SECONDS", "30"))
EDIT_SECONDS = float(os.environ.get("BENCH_SOAK_EDIT_SECONDS", "10"))
WARMUP_MINUTES = float(os.environ.get("BENCH_SOAK_WARMUP_MINUTES", str(MINUTES / 5)))
CONCURRENCY = int(os.environ.get("BENCH_SOAK_CONCURRENCY", "2"))
WEBS = 2
WORKERS = 3
READERS = 16
SEED = 11
TEAM_EDITS_EVERY = timedelta(seconds=20)
SAMPLE_SECONDS = 5.0
FLAT_SHARE = 0.20
FLAT_FLOOR_MB = 10.0
# After the clients stop: the last edits' debounced push, or the next pull's, and any
# notification fetch waiting for a sync.
DRAIN_SECONDS = 180.0


@dataclass
class Edit:
    deal_id: int
    zoho_id: str
    probability: int
    status: int | None = None


def run() -> Table:
    logging.getLogger("django_structlog").setLevel(logging.WARNING)
    with (
        SimulatorProcess(
            deals=DEALS,
            seed=SEED,
            data_age=timedelta(hours=1),
            activity_every=TEAM_EDITS_EVERY,
        ) as simulators,
        bench_database("soak") as database_name,
    ):
        fill(simulators, deals=DEALS)
        cookie = session_cookie(login("bench-manager", Role.MANAGER))
        pages = reading_pages()
        candidates = list(Opportunity.objects.open().values_list("pk", "zoho_id", "probability"))
        with running_fleet(
            database_name=database_name,
            simulators=simulators,
            webs=WEBS,
            workers=WORKERS,
            concurrency=CONCURRENCY,
            notify_web=True,
            extra_environment={
                "BENCH_FLEET_SYNC_SECONDS": str(SYNC_SECONDS),
                "ZOHO_PUSH_DEBOUNCE_SECONDS": "5",
            },
        ) as fleet:
            conninfo = database_url(connection, name=database_name)
            connection.close()
            started = timezone.now()
            log = PageLog()
            sampler = Sampler(rss=lambda: _rss(fleet), conninfo=conninfo, interval=SAMPLE_SECONDS)
            with sampler.running() as samples:
                edits = _working_day(fleet, cookie, pages, candidates, log)
                drained = _drain()
            return _table(fleet, log, samples, edits, started=started, drained=drained)


def _rss(fleet: Fleet) -> dict[str, float | None]:
    sizes = {process.name: process.rss_mb() for process in fleet.processes()}
    pid = fleet.simulators.pid
    if pid is not None:
        sizes["simulators"] = tree_rss_mb(pid)
    return sizes


def _working_day(
    fleet: Fleet,
    cookie: str,
    pages: dict[str, list[str]],
    candidates: list[tuple[int, str, int | None]],
    log: PageLog,
) -> list[Edit]:
    """Readers and the Manager's edits until the soak's time is up; the edits made."""
    stop = threading.Event()
    readers = read_pages(fleet.webs, cookie, pages, clients=READERS, log=log, stop=stop)
    rng = random.Random(SEED)  # nosec B311 - which deal to edit, not security
    rng.shuffle(candidates)
    edits: list[Edit] = []
    ends = time.monotonic() + MINUTES * 60
    next_report = time.monotonic() + 60
    try:
        while time.monotonic() < ends and candidates:
            deal_id, zoho_id, probability = candidates.pop()
            edit = Edit(deal_id, zoho_id, 7 if probability != 7 else 8)
            try:
                edit.status = edit_deal(
                    fleet.webs[len(edits) % WEBS],
                    cookie,
                    deal_id,
                    {"probability": str(edit.probability)},
                )
            except OSError as exc:
                print(f"edit of deal {deal_id} failed: {exc}", file=sys.stderr)
            edits.append(edit)
            if time.monotonic() >= next_report:
                next_report += 60
                done = sum(stats.requests for stats in log.pages.values())
                print(f"soak: {len(edits)} edits, {done:,} page requests", file=sys.stderr)
            time.sleep(EDIT_SECONDS)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    return edits


def _drain() -> bool:
    """Until no edit waits for Zoho; False if that never came. The workers are never idle
    here: the team keeps editing, and each of its edits brings a notification."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        if not Opportunity.objects.exclude(pending_fields=[]).exists():
            return True
        time.sleep(2)
    return False


# --- The table ----------------------------------------------------------------------------------


def _table(
    fleet: Fleet,
    log: PageLog,
    samples: Samples,
    edits: list[Edit],
    *,
    started: Any,
    drained: bool,
) -> Table:
    table = Table(
        title=(
            f"Soak, {MINUTES:g} min, {DEALS:,} deals: {WEBS} web servers, {WORKERS} workers "
            f"(concurrency {CONCURRENCY}), beat syncing every {SYNC_SECONDS} s, the team "
            f"editing in Zoho, a Manager editing every {EDIT_SECONDS:g} s, {READERS} readers"
        ),
        columns=("check", "observed", "result"),
    )
    for label, stats in sorted(log.pages.items()):
        table.rows.append(
            (
                f"page: {label}",
                f"{stats.requests:,} requests, {len(stats.failures)} errors, "
                f"p50 {stats.p50:.0f} ms, p95 {stats.p95:.0f} ms",
                verdict(stats.requests > 0 and not stats.failures),
            )
        )
    table.rows.append(_edits_row(fleet, edits, drained=drained))
    warmup = int(WARMUP_MINUTES * 60 / SAMPLE_SECONDS)
    for name in samples.rss_mb:
        memory = samples.memory(name, skip=warmup)
        if memory is not None:
            table.rows.append(_memory_row(name, memory))
    table.rows.append(_connections_row(fleet, samples))
    table.rows.append(_syncs_row(fleet, started))
    failed = [row[0] for row in table.rows if row[-1] != "PASS"]
    table.notes = [
        "all checks passed" if not failed else f"FAILED: {', '.join(failed)}",
        f"memory: sampled every {SAMPLE_SECONDS:g} s; start is the first sample after "
        f"{WARMUP_MINUTES:g} min of warm-up; flat when the end is within "
        f"{FLAT_SHARE:.0%} or {FLAT_FLOOR_MB:g} MB of the start, whichever is more",
        f"the fleet's logs: {fleet.logs}",
        "",
    ]
    for label, stats in log.pages.items():
        for failure in stats.failures[:3]:
            table.notes.insert(-1, f"error on {label}: {failure}")
    return table


def _edits_row(fleet: Fleet, edits: list[Edit], *, drained: bool) -> tuple[str, str, str]:
    saved = [edit for edit in edits if edit.status == 200]
    in_zoho = fleet.simulators.deal_values([edit.zoho_id for edit in saved], ["Probability"])
    team_set = {deal for deal, fields in fleet.simulators.team_edits() if "Probability" in fields}
    found = superseded = lost = 0
    for edit in saved:
        if in_zoho.get(edit.zoho_id, {}).get("Probability") == edit.probability:
            found += 1
        elif edit.zoho_id in team_set or edit.zoho_id not in in_zoho:
            superseded += 1  # the team changed it (or deleted the deal) in Zoho too
        else:
            lost += 1
    observed = (
        f"{len(edits)} made, {len(saved)} saved; {found} found in Zoho, {superseded} "
        f"superseded by the team's own edit in Zoho, {lost} lost"
        + ("" if drained else "; edits still pending when the drain gave up")
    )
    return ("edits: made vs found in Zoho", observed, verdict(bool(saved) and not lost and drained))


def _memory_row(name: str, memory: Memory) -> tuple[str, str, str]:
    flat = memory.flat(share=FLAT_SHARE, floor_mb=FLAT_FLOOR_MB)
    return (
        f"RSS: {name}",
        f"start {memory.start:.0f} MB, end {memory.end:.0f} MB, peak {memory.peak:.0f} MB",
        verdict(flat),
    )


def _connections_row(fleet: Fleet, samples: Samples) -> tuple[str, str, str]:
    threads = settings.WEB_THREADS
    bound = WEBS * (threads + 1) + len(fleet.workers) * CONCURRENCY + 1 + 1  # + this process
    least, most = min(samples.connections, default=0), max(samples.connections, default=0)
    return (
        "PostgreSQL connections",
        f"min {least}, max {most} (bound {bound}: deployment.md's budget + this process)",
        verdict(most <= bound),
    )


def _syncs_row(fleet: Fleet, started: Any) -> tuple[str, str, str]:
    runs = SyncRun.objects.filter(started_at__gte=started)
    kinds = Counter(runs.values_list("kind", flat=True))
    failed = runs.filter(status=SyncStatus.FAILED).count()
    running = SyncRun.objects.running().count()
    notified = fleet.simulators.notifications()
    observed = (
        f"{sum(kinds.values())} runs ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})"
        f", {failed} failed, {running} left running; Zoho notifications answered "
        + (", ".join(f"{status}: {n}" for status, n in sorted(notified.items())) or "none")
    )
    ok = bool(kinds) and not failed and not running and set(notified) <= {"200", "202", "204"}
    return ("sync runs and notifications", observed, verdict(ok))
