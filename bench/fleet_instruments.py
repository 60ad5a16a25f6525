"""What the fleet benchmarks measure and judge: memory and database connections sampled over
a run, page latencies and errors, sync runs that overlap, deals pushed more than once."""

from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import psycopg


@dataclass(frozen=True)
class Interval:
    """When something ran: a sync run's start and finish (None: still running)."""

    label: str
    start: datetime
    end: datetime | None


def overlapping(intervals: Iterable[Interval]) -> list[tuple[str, str]]:
    """Each pair of intervals that ran at the same time; one not finished runs on forever.

    Touching ends do not overlap: a run that starts the moment another finishes waited.
    """
    ordered = sorted(intervals, key=lambda interval: interval.start)
    pairs = []
    for index, first in enumerate(ordered):
        for second in ordered[index + 1 :]:
            if first.end is not None and second.start >= first.end:
                break  # sorted by start: no later one overlaps `first` either
            pairs.append((first.label, second.label))
    return pairs


def not_exactly_once(counts: Mapping[str, int], expected: Iterable[str]) -> dict[str, int]:
    """The expected keys counted other than once (0 when missing), and unexpected ones."""
    wanted = set(expected)
    wrong = {key: counts.get(key, 0) for key in wanted if counts.get(key, 0) != 1}
    wrong.update({key: count for key, count in counts.items() if key not in wanted and count})
    return wrong


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# --- Memory and connections over time ----------------------------------------------------------


def database_connections(conninfo: str) -> int:
    """Connections to the database `conninfo` names, besides the one asking."""
    with psycopg.connect(conninfo, autocommit=True) as probe:
        return count_connections(probe)


def count_connections(probe: psycopg.Connection[tuple[int]]) -> int:
    row = probe.execute(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    ).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class Memory:
    """One process's resident memory over a run: first, last and highest sample (MB)."""

    start: float
    end: float
    peak: float

    def flat(self, *, share: float, floor_mb: float) -> bool:
        """Whether the end stays within `share` of the start, or `floor_mb`, whichever is more:
        a small process's allocator moves by a few MB whatever it does."""
        return self.end <= self.start + max(self.start * share, floor_mb)


@dataclass
class Samples:
    """Memory of each process and the database's connection count, sampled over a run."""

    rss_mb: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    connections: list[int] = field(default_factory=list)

    def memory(self, name: str, *, skip: int = 0) -> Memory | None:
        """The process's memory from its `skip`-th sample on (after warm-up), if sampled."""
        values = self.rss_mb.get(name, [])[skip:] or self.rss_mb.get(name, [])
        if not values:
            return None
        return Memory(start=values[0], end=values[-1], peak=max(values))


class Sampler:
    """Samples `rss` (process name → MB, None once gone) and the connections to the database
    `conninfo` names every `interval` seconds, in a thread, while the block runs."""

    def __init__(
        self,
        *,
        rss: Callable[[], Mapping[str, float | None]],
        conninfo: str,
        interval: float,
    ) -> None:
        self.samples = Samples()
        self._rss = rss
        self._conninfo = conninfo
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fleet sampler", daemon=True)

    @contextmanager
    def running(self) -> Iterator[Samples]:
        self._thread.start()
        try:
            yield self.samples
        finally:
            self._stopped.set()
            self._thread.join(timeout=30)

    def sample(self, probe: psycopg.Connection[tuple[int]]) -> None:
        for name, megabytes in self._rss().items():
            if megabytes is not None:
                self.samples.rss_mb[name].append(megabytes)
        self.samples.connections.append(count_connections(probe))

    def _run(self) -> None:
        with psycopg.connect(self._conninfo, autocommit=True) as probe:
            while True:
                self.sample(probe)
                if self._stopped.wait(self._interval):
                    self.sample(probe)  # the state at the end, whenever it came
                    return


# --- Pages -------------------------------------------------------------------------------------


@dataclass
class PageStats:
    """Requests to one page: each one's latency (ms) and what went wrong with the failures."""

    milliseconds: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.milliseconds)

    def percentile(self, share: float) -> float:
        if not self.milliseconds:
            return 0.0
        ordered = sorted(self.milliseconds)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.milliseconds) if self.milliseconds else 0.0

    @property
    def p95(self) -> float:
        return self.percentile(0.95)


class PageLog:
    """Requests per page from many client threads at once."""

    def __init__(self) -> None:
        self.pages: dict[str, PageStats] = defaultdict(PageStats)
        self._lock = threading.Lock()

    def record(self, page: str, milliseconds: float, failure: str | None) -> None:
        with self._lock:
            stats = self.pages[page]
            stats.milliseconds.append(milliseconds)
            if failure:
                stats.failures.append(failure)


def failure_of(status: int | None, error: str = "") -> str | None:
    """None for an answer that is no error (2xx, 3xx); else what went wrong."""
    if status is None:
        return error or "no answer"
    return None if 200 <= status < 400 else f"HTTP {status}"


def timed(call: Callable[[], int | None]) -> tuple[float, int | None, str]:
    """Milliseconds `call` took, the status it returned, and the error it raised."""
    started = time.perf_counter()
    try:
        status = call()
    except Exception as exc:  # noqa: BLE001 - a failed request is a result to count
        return (time.perf_counter() - started) * 1000, None, f"{type(exc).__name__}: {exc}"
    return (time.perf_counter() - started) * 1000, status, ""
