"""The newest migrations on a million deals: back and forward again, each timed, on its own.

A deploy runs `migrate` against the live tables. A migration that rewrites the deal table, or
holds a lock on it while it updates every row, stops syncs and pages for as long as it runs;
on the demo's 2,000 deals nobody would notice. This benchmark loads BENCH_MIGRATIONS_DEALS
(1,000,000) deals, with one change event, one phase transition and one pipeline move each,
straight into a database of its own (`<name>_migrations`) with `INSERT ... SELECT FROM
generate_series`, not the ORM. Then it walks each app's newest migrations back one at a time
and forward again (BENCH_MIGRATIONS_STEPS, "opportunities=5,sync=2": how many per app),
timing each, and tells from `pg_class.relfilenode` whether the migration rewrote a big table
(a new file) and from the heap's size whether it rewrote every row in place (an UPDATE of
each row doubles it). A second connection samples `pg_locks` while each migration runs: how
long it held a lock that blocks writes to a big table (SHARE or stronger: syncs wait) and one
that blocks reads too (ACCESS EXCLUSIVE: pages wait). A migration holds its locks until its
transaction commits, so those spans run to its end.

A migration that cannot be reversed ends the walk back: the ones before it are not
measured, and the table says so.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
from django.core.management import call_command
from django.db import connection

from bench import Table
from bench.database import bench_database
from pipeline_pulse.storage.database_url import database_url

DEALS = int(os.environ.get("BENCH_MIGRATIONS_DEALS", "1000000"))
STEPS = os.environ.get("BENCH_MIGRATIONS_STEPS", "opportunities=5,sync=2")
BIG_TABLES = (
    "opportunities_opportunity",
    "opportunities_changeevent",
    "opportunities_phasetransition",
    "opportunities_pipelinemove",
)
# Locks that make a sync's INSERT and UPDATE wait, and the one that makes a SELECT wait too.
WRITE_BLOCKING = frozenset(
    ("ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock")
)
READ_BLOCKING = "AccessExclusiveLock"
LOCK_SAMPLE_SECONDS = 0.01
# A heap that grew by more than this share had its rows written again (an UPDATE of each).
ROWS_REWRITTEN_GROWTH = 0.5


# --- Which migrations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    app: str
    name: str
    previous: str  # the migration before it in its app ("zero" for the first)
    reversible: bool


def newest_migrations(app: str, count: int) -> list[Migration]:
    """The app's `count` newest migrations, oldest first (its numbered files, in order)."""
    package = importlib.import_module(f"{app}.migrations")
    names = sorted(
        module.name for module in pkgutil.iter_modules(package.__path__) if module.name[0].isdigit()
    )
    chosen = []
    for position in range(max(len(names) - count, 0), len(names)):
        module = importlib.import_module(f"{app}.migrations.{names[position]}")
        operations = module.Migration.operations
        chosen.append(
            Migration(
                app=app,
                name=names[position],
                previous=names[position - 1] if position else "zero",
                reversible=all(operation.reversible for operation in operations),
            )
        )
    return chosen


def steps_asked(spec: str) -> dict[str, int]:
    """ "opportunities=5,sync=2" → {"opportunities": 5, "sync": 2}."""
    steps = {}
    for part in filter(None, (piece.strip() for piece in spec.split(","))):
        app, _, count = part.partition("=")
        steps[app.strip()] = int(count)
    return steps


# --- The big tables' state --------------------------------------------------------------------


@dataclass(frozen=True)
class TableState:
    filenode: int
    heap_bytes: int


def table_states() -> dict[str, TableState]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relfilenode, pg_relation_size(oid) FROM pg_class "
            "WHERE relkind = 'r' AND relname = ANY(%s)",
            [list(BIG_TABLES)],
        )
        return {name: TableState(node, size) for name, node, size in cursor.fetchall()}


def what_happened(before: Mapping[str, TableState], after: Mapping[str, TableState]) -> str:
    """Per big table: created, dropped, rewritten (a new file), rows rewritten (heap grew)."""
    said = []
    for table in BIG_TABLES:
        short = table.removeprefix("opportunities_")
        old, new = before.get(table), after.get(table)
        if old is None and new is not None:
            said.append(f"{short} created ({new.heap_bytes / 2**20:,.0f} MB)")
        elif old is not None and new is None:
            said.append(f"{short} dropped")
        elif old is not None and new is not None:
            if new.filenode != old.filenode:
                said.append(f"{short} REWRITTEN")
            elif old.heap_bytes and new.heap_bytes > old.heap_bytes * (1 + ROWS_REWRITTEN_GROWTH):
                grown = new.heap_bytes / old.heap_bytes - 1
                said.append(f"{short} rows rewritten (heap +{grown:.0%})")
    return "; ".join(said) or "no big table touched"


# --- Locks ------------------------------------------------------------------------------------


@dataclass
class LockSpans:
    """When a backend was first and last seen holding blocking locks on the big tables."""

    writes: list[float] = field(default_factory=list)  # first and last moment seen
    reads: list[float] = field(default_factory=list)
    modes: dict[str, set[str]] = field(default_factory=dict)  # table → blocking modes seen

    @property
    def writes_blocked_seconds(self) -> float:
        return self.writes[-1] - self.writes[0] if self.writes else 0.0

    @property
    def reads_blocked_seconds(self) -> float:
        return self.reads[-1] - self.reads[0] if self.reads else 0.0

    def saw(self, table: str, mode: str, at: float) -> None:
        if mode in WRITE_BLOCKING:
            self.writes[1:] = [at]
            self.modes.setdefault(table, set()).add(mode)
        if mode == READ_BLOCKING:
            self.reads[1:] = [at]


@contextmanager
def watching_locks(backend_pid: int, conninfo: str) -> Iterator[LockSpans]:
    """Sample, from a connection of its own, the locks `backend_pid` holds on the big tables."""
    spans = LockSpans()
    done = threading.Event()

    def sample() -> None:
        with psycopg.connect(conninfo, autocommit=True) as watcher:
            while not done.is_set():
                rows = watcher.execute(
                    "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c "
                    "ON c.oid = l.relation WHERE l.pid = %s AND l.granted AND c.relname = ANY(%s)",
                    [backend_pid, list(BIG_TABLES)],
                ).fetchall()
                now = time.monotonic()
                for table, mode in rows:
                    spans.saw(table, mode, now)
                done.wait(LOCK_SAMPLE_SECONDS)

    thread = threading.Thread(target=sample, name="bench-lock-watch", daemon=True)
    thread.start()
    try:
        yield spans
    finally:
        done.set()
        thread.join(timeout=10)


# --- The data ---------------------------------------------------------------------------------

# What each column gets; a NOT NULL column added later that is missing here gets a plain value
# of its type (`_PLAIN`), so the loader keeps working as the schema grows.
_DEAL = {
    "created_at": "now() - (i % 500) * interval '1 day'",
    "updated_at": "now()",
    "zoho_id": "(5725767000000100000 + i * 37)::text",
    "name": "'Bluewater Bay Logistics - Cloud Migration ' || i",
    "stage": "(ARRAY['Qualification', 'Needs Analysis', 'Proposal/Price Quote', "
    "'Closed Won', 'Closed Lost'])[1 + i % 5]",
    "probability": "(i * 7) % 101",
    "amount": "1000 + i % 50000",
    "currency": "(ARRAY['SGD', 'USD', 'MYR', 'EUR'])[1 + i % 4]",
    "zoho_exchange_rate": "0.745",
    "closing_date": "current_date + (i % 365 - 90)",
    "zoho_created_time": "now() - (i % 500) * interval '1 day'",
    "zoho_modified_time": "now() - (i % 40) * interval '1 day'",
    "deal_type": "'New Business'",
    "lead_source": "'Partner'",
    "territory": "(ARRAY['Singapore', 'Malaysia', 'India', 'Europe'])[1 + i % 4]",
    "service_line": "'Cloud Migration'",
    "funding_type": "'Self-funded'",
    "market_segment": "'Enterprise'",
    "proposal_submitted_on": "CASE WHEN i % 4 >= 2 THEN current_date - i % 60 END",
    "amount_sgd": "round((1000 + i % 50000) / 0.745, 2)",
    "fx_rate": "1.342281879195",
    "fx_rate_as_of": "now()",
    "phase": "1 + i % 4",
    "phase_entered_at": "now() - (i % 90) * interval '1 day'",
    "stage_entered_at": "now() - (i % 90) * interval '1 day'",
    "outcome": "CASE i % 10 WHEN 0 THEN 'won' WHEN 1 THEN 'lost' ELSE 'open' END",
    "health_status": "(ARRAY['success', 'warning', 'danger', 'neutral'])[1 + i % 4]",
    "health_reasons": "'[]'::jsonb",
    "health_computed_at": "now()",
    "is_deleted": "false",
    # As wide as a synced deal's: the Zoho values it was last read with.
    "zoho_values": "jsonb_build_object('Deal_Name', 'Bluewater Bay Logistics - Cloud Migration "
    "' || i, 'Amount', (1000 + i % 50000)::text, 'Currency', 'USD', 'Stage', 'Qualification', "
    "'Probability', (i * 7) % 101, 'Closing_Date', (current_date + (i % 365 - 90))::text, "
    "'Type', 'New Business', 'Lead_Source', 'Partner', 'Region', 'Singapore', "
    "'Solution_Type', 'Cloud Migration', 'Type_of_Funding', 'Self-funded', "
    "'Market_Segment', 'Enterprise', 'Owner', '4876876000000200001', "
    "'Account_Name', '3652397000000300001', 'Modified_Time', now()::text)",
}
# Every tenth deal's closing date was pushed into a later quarter: the slips 0015 finds.
_EVENT = {
    "opportunity_id": "deal.id",
    "kind": "CASE WHEN deal.id % 10 = 0 THEN 'closing_date_pushed' ELSE 'new' END",
    "old_value": "CASE WHEN deal.id % 10 = 0 THEN (current_date - 100)::text ELSE '' END",
    "new_value": "CASE WHEN deal.id % 10 = 0 THEN current_date::text ELSE '' END",
    "cause": "'sync'",
    "occurred_at": "deal.created_at",
}
_TRANSITION = {
    "opportunity_id": "deal.id",
    "to_phase": "deal.phase",
    "occurred_at": "deal.created_at",
    "cause": "'sync'",
}
_MOVE = {
    "opportunity_id": "deal.id",
    "occurred_at": "deal.created_at",
    "kind": "'new'",
    "status_before": "''",
    "status_after": "deal.outcome",
    "closing_after": "deal.closing_date",
    "sgd_after": "deal.amount_sgd",
}
_PLAIN = {
    "boolean": "false",
    "jsonb": "'{}'::jsonb",
    "date": "current_date",
    "timestamp with time zone": "now()",
}


def _insert(table: str, values: Mapping[str, str], source: str, parameters: list[int]) -> int:
    """INSERT every row of `source` with `values` for the table's columns that exist now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type, is_nullable, column_default, is_identity, "
            "is_generated FROM information_schema.columns WHERE table_name = %s",
            [table],
        )
        chosen: dict[str, str] = {}
        for name, data_type, nullable, default, identity, generated in cursor.fetchall():
            if identity == "YES" or generated == "ALWAYS":
                continue
            if name in values:
                chosen[name] = values[name]
            elif nullable == "NO" and default is None:
                number = data_type in ("smallint", "integer", "bigint", "numeric")
                chosen[name] = "0" if number else _PLAIN.get(data_type, "''")
        if not chosen:
            return 0
        quote = connection.ops.quote_name
        # The values' % is SQL's modulo, not a placeholder: only `source` binds parameters.
        expressions = ", ".join(value.replace("%", "%%") for value in chosen.values())
        # Column names come from the catalogue and values from the constants above.
        cursor.execute(
            f"INSERT INTO {quote(table)} ({', '.join(quote(name) for name in chosen)}) "  # nosec B608
            f"SELECT {expressions} {source}",
            parameters,
        )
        return int(cursor.rowcount)


def load(deals: int) -> dict[str, int]:
    """The deals and their history, rows per table."""
    loaded = {
        "opportunities_opportunity": _insert(
            "opportunities_opportunity", _DEAL, "FROM generate_series(1, %s) AS i", [deals]
        )
    }
    every_deal = "FROM opportunities_opportunity AS deal"
    for table, values in (
        ("opportunities_changeevent", _EVENT),
        ("opportunities_phasetransition", _TRANSITION),
        ("opportunities_pipelinemove", _MOVE),
    ):
        loaded[table] = _insert(table, values, every_deal, [])
    return loaded


# --- The walk ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    migration: Migration
    direction: str  # "back" (unapplied) or "forward" (applied)
    seconds: float
    happened: str
    locks: LockSpans


def _migrate(migration: Migration, direction: str, conninfo: str) -> Step:
    target = migration.previous if direction == "back" else migration.name
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    before = table_states()
    with watching_locks(pid, conninfo) as locks:
        started = time.perf_counter()
        call_command("migrate", migration.app, target, verbosity=0, interactive=False)
        seconds = time.perf_counter() - started
    return Step(migration, direction, seconds, what_happened(before, table_states()), locks)


def walk(migrations: list[Migration], conninfo: str) -> tuple[list[Step], list[Migration]]:
    """Unapply the migrations newest first, then apply them again oldest first.

    Stops going back at a migration that cannot be reversed; returns the steps and the
    migrations not measured.
    """
    back: list[Step] = []
    skipped: list[Migration] = []
    for position, migration in enumerate(reversed(migrations)):
        if not migration.reversible:
            skipped = list(reversed(migrations))[position:]
            break
        back.append(_migrate(migration, "back", conninfo))
    forward = [_migrate(step.migration, "forward", conninfo) for step in reversed(back)]
    return back + forward, skipped


def _noop_seconds() -> float:
    """What `migrate` costs with nothing to do: checks, the plan and post_migrate."""
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    return time.perf_counter() - started


def run() -> Table:
    with bench_database("migrations") as database_name:
        conninfo = database_url(connection, name=database_name)
        started = time.perf_counter()
        loaded = load(DEALS)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as a live org's tables are
        load_seconds = time.perf_counter() - started
        noop = _noop_seconds()
        migrations = [
            migration
            for app, count in steps_asked(STEPS).items()
            for migration in newest_migrations(app, count)
        ]
        steps: list[Step] = []
        skipped: list[Migration] = []
        for app in dict.fromkeys(migration.app for migration in migrations):
            done, missed = walk([m for m in migrations if m.app == app], conninfo)
            steps += done
            skipped += missed
        return _table(steps, skipped, loaded, load_seconds, noop)


def _table(
    steps: list[Step],
    skipped: list[Migration],
    loaded: Mapping[str, int],
    load_seconds: float,
    noop: float,
) -> Table:
    table = Table(
        title=(
            f"Migrations, {connection.vendor}, {loaded['opportunities_opportunity']:,} deals "
            f"loaded with their history in {load_seconds:.0f} s"
        ),
        columns=(
            "migration",
            "direction",
            "seconds",
            "writes blocked s",
            "reads blocked s",
            "big tables",
        ),
    )
    for step in steps:
        table.rows.append(
            (
                f"{step.migration.app} {step.migration.name}",
                step.direction,
                f"{step.seconds:.2f}",
                f"{step.locks.writes_blocked_seconds:.2f}",
                f"{step.locks.reads_blocked_seconds:.2f}",
                step.happened,
            )
        )
    table.notes = [
        "rows loaded: " + ", ".join(f"{name} {rows:,}" for name, rows in loaded.items()),
        f"seconds include what every `migrate` costs with nothing to do ({noop:.2f} s: checks, "
        "the plan, post_migrate)",
        "blocked: how long the migration's connection was seen holding a lock on a big table "
        "that makes writes wait (SHARE or stronger) and reads too (ACCESS EXCLUSIVE), sampled "
        f"every {LOCK_SAMPLE_SECONDS * 1000:.0f} ms from another connection",
        "REWRITTEN: the table has a new file (pg_class.relfilenode); rows rewritten: same file, "
        f"heap more than {ROWS_REWRITTEN_GROWTH:.0%} larger (every row updated)",
    ]
    for migration in skipped:
        table.notes.append(
            f"not measured: {migration.app} {migration.name}: it or a newer one cannot be "
            "reversed; measure it forward only, on a database migrated to the one before it"
        )
    table.notes.append("")
    return table
