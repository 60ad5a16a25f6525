"""Scale-out: two web servers, three Celery workers and beat against one PostgreSQL and Redis
(bench.fleet), and what must stay single across them, proven by doing it all at once.

The deals come from a full sync from the Zoho simulator (in a process of its own) into a
database of the benchmark's own (`<name>_fleet`, dropped afterwards). Then, with the fleet
running:

(a) one sync at a time: a Manager presses "Sync now" (full) on both web servers twice at
    once, and a full and an incremental sync are sent to every worker at the same moment;
    the SyncRun rows' start-to-finish intervals must never overlap;
(b) no duplicate push: a Manager edits deals through the web; a push and a pull (which
    pushes first) are sent to every worker at once; each deal must be sent to Zoho once,
    counted by the simulator per deal in its Update Records calls;
(c) no duplicate digest: the weekly digest is sent to every worker at once (and once more to
    the shared queue, as beat sends it); each recipient must get one e-mail (SentEmail);
(d) one nightly health run: the nightly task likewise; it must rescore the deals once,
    counted in the workers' logs;
(e) a worker killed mid-sync: a full sync is started through the web, the worker running it
    is killed with SIGKILL (its pool processes with it); the sync's lock must be released
    with its connection, "Sync now" must start the next sync, which completes, and no run
    may be left "running".

Then the connection budget: 32 clients read the dashboard, the board and deal pages on both
web servers for BENCH_SCALEOUT_READ_SECONDS, while the connections to the database are
sampled, with DATABASE_POOL_MAX_SIZE off (each thread keeps its connection) and on (the
fleet restarted with a pool of BENCH_SCALEOUT_POOL_SIZE per process). The bound each is
judged against is docs/deployment.md's formula.

BENCH_SCALEOUT_DEALS (3000) sets the deals, BENCH_SCALEOUT_EDITS (20) the deals edited,
BENCH_SCALEOUT_CONCURRENCY (2, as deployed) each worker's pool processes.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from bench import Table
from bench.database import bench_database
from bench.fleet import Fleet, running_fleet
from bench.fleet_clients import (
    at_once,
    edit_deal,
    login,
    press_sync_now,
    read_pages,
    session_cookie,
)
from bench.fleet_instruments import (
    Interval,
    PageLog,
    Sampler,
    not_exactly_once,
    overlapping,
    verdict,
)
from bench.zoho_process import SimulatorProcess
from currency.services import fx_rates_refresh
from opportunities.digest import digest_recipients
from opportunities.models import Opportunity
from opportunities.roles import Role
from pipeline_pulse.models import SentEmail
from pipeline_pulse.storage.database_url import database_url
from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger
from sync.run_lock import LOCK_KEY
from sync.services import zoho_sync

DEALS = int(os.environ.get("BENCH_SCALEOUT_DEALS", "3000"))
EDITS = int(os.environ.get("BENCH_SCALEOUT_EDITS", "20"))
CONCURRENCY = int(os.environ.get("BENCH_SCALEOUT_CONCURRENCY", "2"))
READ_SECONDS = float(os.environ.get("BENCH_SCALEOUT_READ_SECONDS", "20"))
POOL_SIZE = int(os.environ.get("BENCH_SCALEOUT_POOL_SIZE", "2"))
WEBS = 2
WORKERS = 3
READERS = 32
RECIPIENTS = 10  # Viewers, who get the digest by default, besides the Manager
SEED = 7
# Long enough for the syncs sent at once to meet, short enough for a quick run.
SYNC_LATENCY_SECONDS = 0.1
KILL_LATENCY_SECONDS = 0.3
IDLE_TIMEOUT_SECONDS = 300.0
LOCK_RELEASE_TIMEOUT_SECONDS = 10.0
NIGHTLY_RUN_LINE = "health recomputed for"  # what opportunities.tasks logs after a run
SKIPPED_SYNC_LINE = "Skipped a"  # what sync.tasks logs when the lock refuses a run


@dataclass
class Scenario:
    name: str
    expected: str
    observed: str
    ok: bool

    def row(self) -> tuple[str, str, str, str]:
        return (self.name, self.expected, self.observed, verdict(self.ok))


@dataclass
class Budget:
    label: str
    peak: int
    bound: int
    requests: int
    failures: int
    p95_ms: float


def run() -> Table:
    # This process queues tasks for the fleet: its log line per task would bury the table.
    logging.getLogger("django_structlog").setLevel(logging.WARNING)
    with (
        SimulatorProcess(deals=DEALS, seed=SEED, data_age=timedelta(hours=1)) as simulators,
        bench_database("fleet") as database_name,
    ):
        fill(simulators, deals=DEALS)
        manager = login("bench-manager", Role.MANAGER)
        for number in range(RECIPIENTS):
            login(f"bench-viewer-{number + 1}", Role.VIEWER)
        cookie = session_cookie(manager)
        pages = reading_pages()
        started = time.perf_counter()
        with running_fleet(
            database_name=database_name,
            simulators=simulators,
            webs=WEBS,
            workers=WORKERS,
            concurrency=CONCURRENCY,
            extra_environment={"ZOHO_PUSH_DEBOUNCE_SECONDS": "1"},
        ) as fleet:
            fleet.wait_idle(timeout=IDLE_TIMEOUT_SECONDS)  # beat's first sync, the startup tasks
            scenarios = [
                one_sync_at_a_time(fleet, cookie),
                no_duplicate_push(fleet, cookie),
                no_duplicate_digest(fleet),
                one_nightly_run(fleet),
                killed_worker(fleet, cookie),
            ]
            budgets = [connection_budget(fleet, cookie, pages, pool=0)]
            logs = fleet.logs
        with running_fleet(
            database_name=database_name,
            simulators=simulators,
            webs=WEBS,
            workers=WORKERS,
            concurrency=CONCURRENCY,
            extra_environment={"DATABASE_POOL_MAX_SIZE": str(POOL_SIZE)},
        ) as fleet:
            fleet.wait_idle(timeout=IDLE_TIMEOUT_SECONDS)
            budgets.append(connection_budget(fleet, cookie, pages, pool=POOL_SIZE))
        return _table(scenarios, budgets, seconds=time.perf_counter() - started, logs=str(logs))


def fill(simulators: SimulatorProcess, *, deals: int) -> None:
    """Rates, then every deal, as production gets them (the fleet starts on a filled org)."""
    fx_rates_refresh(client=simulators.currencyfreaks_client())
    run = zoho_sync(
        kind=SyncKind.FULL, trigger=SyncTrigger.COMMAND, source=simulators.zoho_client()
    )
    if run.status != SyncStatus.SUCCEEDED or run.created != deals:
        raise RuntimeError(f"the benchmark's sync did not bring in {deals:,} deals: {run.error}")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def reading_pages() -> dict[str, list[str]]:
    ids = Opportunity.objects.live().order_by("?").values_list("pk", flat=True)[:200]
    return {
        "dashboard": ["/"],
        "board": ["/board/"],
        "deal page": [f"/deals/{pk}/" for pk in ids],
    }


# --- (a) one sync at a time ---------------------------------------------------------------------


def one_sync_at_a_time(fleet: Fleet, cookie: str) -> Scenario:
    fleet.simulators.set_latency(SYNC_LATENCY_SECONDS)
    since = timezone.now()
    skipped_before = fleet.log_lines(SKIPPED_SYNC_LINE)
    press = functools.partial(press_sync_now, cookie=cookie, kind=SyncKind.FULL)
    presses = [functools.partial(press, web) for web in fleet.webs for _ in range(2)]
    answers = Counter(at_once(presses))
    fleet.send_to_every_worker("sync.tasks.zoho_sync_full", trigger=SyncTrigger.SCHEDULE)
    fleet.send_to_every_worker("sync.tasks.zoho_sync_incremental")
    fleet.wait_idle(timeout=IDLE_TIMEOUT_SECONDS)
    fleet.simulators.set_latency(0)
    runs = list(SyncRun.objects.filter(started_at__gte=since).order_by("started_at"))
    overlaps = overlapping(Interval(f"run {r.pk}", r.started_at, r.finished_at) for r in runs)
    kinds = Counter(run.kind for run in runs)
    requested = len(presses) + 2 * len(fleet.workers)
    skipped = fleet.log_lines(SKIPPED_SYNC_LINE) - skipped_before
    observed = (
        f"{requested} requested at once ({answers[200]} presses queued, {answers[409]} "
        f"refused as running, {len(presses) - answers[200] - answers[409]} failed); "
        f"{len(runs)} ran ({', '.join(f'{n} {k}' for k, n in kinds.items())}), {skipped} "
        f"skipped by the lock; {len(overlaps)} overlapping"
    )
    succeeded = any(run.status == SyncStatus.SUCCEEDED for run in runs)
    return Scenario(
        "(a) one sync at a time",
        "runs' start-finish intervals never overlap",
        observed,
        ok=not overlaps and succeeded,
    )


# --- (b) no duplicate push ----------------------------------------------------------------------


def no_duplicate_push(fleet: Fleet, cookie: str) -> Scenario:
    deals = list(
        Opportunity.objects.open()
        .exclude(probability=13)
        .order_by("pk")
        .values_list("pk", "zoho_id")[:EDITS]
    )
    before = fleet.simulators.update_counts().sent
    edits = [
        functools.partial(
            edit_deal, fleet.webs[index % len(fleet.webs)], cookie, pk, {"probability": "13"}
        )
        for index, (pk, _) in enumerate(deals)
    ]
    saved = sum(status == 200 for status in at_once(edits))
    fleet.send_to_every_worker("sync.tasks.zoho_push_task")
    fleet.send_to_every_worker("sync.tasks.zoho_sync_incremental")
    fleet.wait_idle(timeout=IDLE_TIMEOUT_SECONDS)
    after = fleet.simulators.update_counts().sent
    sent = {deal: count - before.get(deal, 0) for deal, count in after.items()}
    zoho_ids = [zoho_id for _, zoho_id in deals]
    wrong = not_exactly_once(sent, zoho_ids)
    in_zoho = fleet.simulators.deal_values(zoho_ids, ["Probability"])
    landed = sum(values["Probability"] == 13 for values in in_zoho.values())
    pending = Opportunity.objects.filter(zoho_id__in=zoho_ids).exclude(pending_fields=[]).count()
    observed = (
        f"{saved} edits saved on both web servers; pushes and pulls sent to every worker; "
        f"{len(zoho_ids) - len(wrong)} deals sent once, {len(wrong)} not "
        f"(most sends of one deal: {max(sent.values(), default=0)}); {landed} in Zoho, "
        f"{pending} still pending"
    )
    return Scenario(
        "(b) no duplicate push",
        f"each of {len(zoho_ids)} edited deals sent to Zoho once",
        observed,
        ok=saved == len(zoho_ids) and not wrong and landed == len(zoho_ids) and not pending,
    )


# --- (c) no duplicate digest --------------------------------------------------------------------


def no_duplicate_digest(fleet: Fleet) -> Scenario:
    recipients = [user.email for user in digest_recipients(None)]
    fleet.send_to_every_worker("opportunities.weekly_digests")
    fleet.send_task("opportunities.weekly_digests")  # beat's own copy
    fleet.wait_idle(timeout=IDLE_TIMEOUT_SECONDS)
    sent = dict(
        SentEmail.objects.filter(subject__contains="weekly digest")
        .values_list("to")
        .annotate(count=Count("pk"))
        .values_list("to", "count")
    )
    wrong = not_exactly_once(sent, recipients)
    observed = (
        f"{len(fleet.workers) + 1} runs at once; {sum(sent.values())} e-mails to "
        f"{len(sent)} addresses; {len(wrong)} recipients with other than one"
    )
    return Scenario(
        "(c) no duplicate digest",
        f"each of {len(recipients)} recipients gets one e-mail",
        observed,
        ok=bool(recipients) and not wrong,
    )


# --- (d) one nightly run ------------------------------------------------------------------------


def one_nightly_run(fleet: Fleet) -> Scenario:
    before = fleet.log_lines(NIGHTLY_RUN_LINE)
    fleet.send_to_every_worker("opportunities.health_daily")
    fleet.send_task("opportunities.health_daily")  # beat's own copy
    fleet.wait_idle(timeout=IDLE_TIMEOUT_SECONDS)
    runs = fleet.log_lines(NIGHTLY_RUN_LINE) - before
    return Scenario(
        "(d) one nightly health run",
        f"{len(fleet.workers) + 1} copies at once rescore the deals once",
        f"rescored {runs} time(s)",
        ok=runs == 1,
    )


# --- (e) a worker killed mid-sync ---------------------------------------------------------------


def killed_worker(fleet: Fleet, cookie: str) -> Scenario:
    fleet.simulators.set_latency(KILL_LATENCY_SECONDS)
    if press_sync_now(fleet.webs[0], cookie, kind=SyncKind.FULL) != 200:
        raise RuntimeError("the full sync to kill was not queued")
    orphan = _wait_for_run_with_pages(2)
    holder = _lock_holder_port()
    worker = fleet.worker_holding_connection(holder) if holder else None
    if worker is None:
        raise RuntimeError("no worker of the fleet holds the sync lock")
    fleet.kill_worker(worker)
    killed_at = time.monotonic()
    while _lock_holder_port() is not None:
        if time.monotonic() - killed_at > LOCK_RELEASE_TIMEOUT_SECONDS:
            break
        time.sleep(0.05)
    released_after = time.monotonic() - killed_at
    released = _lock_holder_port() is None
    fleet.simulators.set_latency(0)
    fleet.start_worker(f"{worker.name}-again")
    status = press_sync_now(fleet.webs[1], cookie, kind=SyncKind.INCREMENTAL)
    fleet.wait_idle(timeout=IDLE_TIMEOUT_SECONDS)
    orphan.refresh_from_db()
    next_run = SyncRun.objects.filter(started_at__gt=orphan.started_at).order_by("pk").last()
    still_running = SyncRun.objects.running().count()
    observed = (
        f"{worker.name} killed in run {orphan.pk} (page {orphan.pages}); lock "
        + (f"free {released_after:.1f} s later" if released else "STILL HELD")
        + f"; Sync now answered {status}; run {orphan.pk} {orphan.status}"
        + (f", next run {next_run.pk} {next_run.status}" if next_run else ", no next run")
        + f"; {still_running} running"
    )
    ok = (
        released
        and status == 200
        and orphan.status == SyncStatus.FAILED
        and next_run is not None
        and next_run.status == SyncStatus.SUCCEEDED
        and not still_running
    )
    return Scenario(
        "(e) worker killed mid-sync",
        "lock freed, next sync completes, no run left running",
        observed,
        ok=ok,
    )


def _wait_for_run_with_pages(pages: int) -> SyncRun:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = SyncRun.objects.running().filter(kind=SyncKind.FULL, pages__gte=pages).first()
        if run is not None:
            return run
        time.sleep(0.1)
    raise RuntimeError("the full sync did not start")


def _lock_holder_port() -> int | None:
    """The client port of the database session holding the sync lock, if one does."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT activity.client_port FROM pg_locks lock "
            "JOIN pg_stat_activity activity ON activity.pid = lock.pid "
            "WHERE lock.locktype = 'advisory' AND lock.granted AND lock.classid = 0 "
            "AND lock.objid = %s AND lock.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())",
            [LOCK_KEY],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


# --- The connection budget ----------------------------------------------------------------------


def connection_budget(
    fleet: Fleet, cookie: str, pages: dict[str, list[str]], *, pool: int
) -> Budget:
    """Peak connections while READERS clients read pages on every web server."""
    conninfo = database_url(connection, name=fleet.database_name)
    connection.close()  # this process is no client of the fleet's database while it reads
    log = PageLog()
    stop = threading.Event()

    def rss() -> dict[str, float | None]:
        return {process.name: process.rss_mb() for process in fleet.processes()}

    sampler = Sampler(rss=rss, conninfo=conninfo, interval=0.2)
    with sampler.running() as samples:
        readers = read_pages(fleet.webs, cookie, pages, clients=READERS, log=log, stop=stop)
        time.sleep(READ_SECONDS)
        stop.set()
        for reader in readers:
            reader.join()
    threads = settings.WEB_THREADS
    per_web = min(pool, threads + 1) if pool else threads + 1
    per_worker_process = min(pool, 1) if pool else 1
    bound = WEBS * per_web + len(fleet.workers) * CONCURRENCY * per_worker_process + 1
    every_page = list(log.pages.values())
    milliseconds = sorted(ms for stats in every_page for ms in stats.milliseconds)
    return Budget(
        label=f"pool of {pool} per process" if pool else "no pool (CONN_MAX_AGE)",
        peak=max(samples.connections, default=0),
        bound=bound,
        requests=len(milliseconds),
        failures=sum(len(stats.failures) for stats in every_page),
        p95_ms=milliseconds[int(0.95 * (len(milliseconds) - 1))] if milliseconds else 0.0,
    )


# --- The table ----------------------------------------------------------------------------------


def _table(scenarios: list[Scenario], budgets: list[Budget], *, seconds: float, logs: str) -> Table:
    table = Table(
        title=(
            f"Scale-out, {DEALS:,} deals: {WEBS} web servers (uvicorn, 1 worker, "
            f"WEB_THREADS={settings.WEB_THREADS}), {WORKERS} Celery workers (concurrency "
            f"{CONCURRENCY}), beat, one PostgreSQL and Redis; {seconds:.0f} s"
        ),
        columns=("scenario", "expected", "observed", "result"),
    )
    table.rows.extend(scenario.row() for scenario in scenarios)
    for budget in budgets:
        table.rows.append(
            (
                f"connections, {budget.label}",
                f"peak <= {budget.bound} (deployment.md's budget)",
                f"peak {budget.peak} under {READERS} readers for {READ_SECONDS:.0f} s; "
                f"{budget.requests:,} requests, {budget.failures} failed, "
                f"p95 {budget.p95_ms:.0f} ms",
                verdict(budget.peak <= budget.bound and not budget.failures),
            )
        )
    failed = [row[0] for row in table.rows if row[-1] != "PASS"]
    table.notes = [
        "all checks passed" if not failed else f"FAILED: {', '.join(failed)}",
        "the bound counts web servers x (WEB_THREADS + 1, or the pool) + worker pool "
        "processes x 1 + beat; this process closes its own connection while the readers run",
        f"the fleet's logs: {logs}",
        "",
    ]
    return table
