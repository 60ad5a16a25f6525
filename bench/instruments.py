"""Cheap instruments for benchmarks: SQL time by statement, time spent waiting on a source, RSS."""

from __future__ import annotations

import cProfile
import os
import re
import resource
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django.db import connection

from opportunities.records import CrmStageRecord
from sync.services import DealSource
from sync.zoho.records import DealPage, DeletedDeal

Item = TypeVar("Item")

_TABLE = re.compile(r'(?:\bFROM|\bINTO|^UPDATE)\s+"?(\w+)"?', re.IGNORECASE)
_FIRST_SET_COLUMN = re.compile(r'\bSET\s+"?(\w+)"?', re.IGNORECASE)


@dataclass
class SqlTime:
    """Statements run and seconds spent in `cursor.execute`, per statement kind and table."""

    by_statement: dict[str, list[float]] = field(default_factory=dict)  # kind → [count, seconds]

    @property
    def statements(self) -> int:
        return int(sum(count for count, _ in self.by_statement.values()))

    @property
    def seconds(self) -> float:
        return sum(seconds for _, seconds in self.by_statement.values())

    def slowest(self, count: int) -> list[tuple[str, int, float]]:
        ranked = sorted(self.by_statement.items(), key=lambda item: item[1][1], reverse=True)
        return [(kind, int(number), seconds) for kind, (number, seconds) in ranked[:count]]


def statement_kind(sql: str) -> str:
    """`INSERT opportunities_opportunity`, `UPDATE sync_syncrun SET status`, `SAVEPOINT`, ..."""
    head = sql.lstrip()[:4000]  # bulk statements run to hundreds of kB; the table comes early
    verb = head.split(None, 1)[0].upper() if head else "?"
    table = _TABLE.search(head)
    if table is None:
        return verb
    kind = f"{verb} {table.group(1)}"
    # One table takes several kinds of UPDATE; the first column set tells them apart.
    column = _FIRST_SET_COLUMN.search(head) if verb == "UPDATE" else None
    return f"{kind} SET {column.group(1)}" if column else kind


@contextmanager
def sql_time() -> Iterator[SqlTime]:
    """Time every statement the default connection runs in the block (commits excluded)."""
    timing = SqlTime()

    def timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, ctx)
        finally:
            entry = timing.by_statement.setdefault(statement_kind(sql), [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    with connection.execute_wrapper(timed):
        yield timing


class TimedSource:
    """A sync source that adds up the time the sync spends waiting for the next page.

    Waiting covers everything the client does for a page (HTTP, the simulator answering,
    JSON decoding, parsing records); the sync's own work between pages is not counted.
    """

    def __init__(self, source: DealSource) -> None:
        self.source = source
        self.waiting_seconds = 0.0

    @property
    def api_calls(self) -> int:
        return self.source.api_calls

    def iter_deal_pages(self, *, modified_since: datetime | None = None) -> Iterator[DealPage]:
        return self._timed(self.source.iter_deal_pages(modified_since=modified_since))

    def iter_deleted_deals(self, *, since: datetime | None = None) -> Iterator[list[DeletedDeal]]:
        return self._timed(self.source.iter_deleted_deals(since=since))

    def get_deals(self, zoho_ids: Sequence[str]) -> DealPage:
        started = time.perf_counter()
        try:
            return self.source.get_deals(zoho_ids)
        finally:
            self.waiting_seconds += time.perf_counter() - started

    def stage_metadata(self) -> list[CrmStageRecord]:
        started = time.perf_counter()
        try:
            return self.source.stage_metadata()
        finally:
            self.waiting_seconds += time.perf_counter() - started

    def _timed(self, items: Iterable[Item]) -> Iterator[Item]:
        iterator = iter(items)
        while True:
            started = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                self.waiting_seconds += time.perf_counter() - started
            yield item


@contextmanager
def profiled(path: str) -> Iterator[None]:
    """cProfile the block into `path` (`python -m pstats path` reads it); nothing when empty."""
    if not path:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(path)


def peak_rss_mb() -> float:
    """This process's resident-memory high-water mark so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def current_rss_mb() -> float:
    """This process's resident memory now (Linux); the high-water mark elsewhere."""
    try:
        with open("/proc/self/statm") as statm:
            resident_pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return peak_rss_mb()
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20
