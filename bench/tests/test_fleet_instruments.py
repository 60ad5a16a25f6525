"""The fleet benchmarks' instruments and verdicts: overlapping runs, deals sent other than
once, memory over a run, connections counted, pages' errors (the fleet itself never starts
here)."""

from __future__ import annotations

import subprocess  # nosec B404 - a process of this interpreter to measure
import sys
import time
from datetime import UTC, datetime, timedelta

import psutil
import psycopg
import pytest
from django.db import connection

from bench.fleet_instruments import (
    Interval,
    Memory,
    PageLog,
    Sampler,
    Samples,
    database_connections,
    failure_of,
    not_exactly_once,
    overlapping,
    timed,
    verdict,
)
from bench.fleet_processes import tree_rss_mb
from bench.scaleout import Scenario
from bench.soak import _memory_row
from pipeline_pulse.storage.database_url import database_url

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_runs_one_after_another_do_not_overlap_even_when_they_touch() -> None:
    runs = [
        Interval("first", _at(0), _at(10)),
        Interval("second", _at(10), _at(12)),  # started the moment the first finished
        Interval("third", _at(20), _at(25)),
    ]
    assert overlapping(reversed(runs)) == []


def test_runs_at_the_same_time_overlap_and_an_unfinished_one_runs_on() -> None:
    runs = [
        Interval("long", _at(0), _at(30)),
        Interval("inside", _at(5), _at(6)),
        Interval("orphan", _at(40), None),
        Interval("after the orphan", _at(90), _at(95)),
    ]
    assert overlapping(runs) == [("long", "inside"), ("orphan", "after the orphan")]


def test_deals_sent_other_than_once_are_named_with_their_count() -> None:
    sent = {"a": 1, "b": 2, "stray": 1, "untouched": 0}
    assert not_exactly_once(sent, ["a", "b", "c"]) == {"b": 2, "c": 0, "stray": 1}
    assert not_exactly_once({"a": 1}, ["a"]) == {}


def test_memory_is_flat_within_a_share_of_the_start_or_a_floor_whichever_is_more() -> None:
    assert Memory(start=100, end=119, peak=130).flat(share=0.2, floor_mb=10)
    assert not Memory(start=100, end=121, peak=121).flat(share=0.2, floor_mb=10)
    assert Memory(start=20, end=29, peak=29).flat(share=0.2, floor_mb=10)  # the floor
    assert _memory_row("web-1", Memory(start=100, end=150, peak=150))[-1] == "FAIL"
    assert _memory_row("web-1", Memory(start=100, end=101, peak=140)) == (
        "RSS: web-1",
        "start 100 MB, end 101 MB, peak 140 MB",
        "PASS",
    )


def test_memory_after_warm_up_starts_at_the_first_sample_after_it() -> None:
    samples = Samples()
    samples.rss_mb["beat"].extend([50, 80, 90, 85])
    assert samples.memory("beat", skip=1) == Memory(start=80, end=85, peak=90)
    assert samples.memory("beat", skip=10) == Memory(start=50, end=85, peak=90)  # too short
    assert samples.memory("gone") is None


def test_the_rss_of_a_process_counts_what_it_started_and_none_once_it_is_gone() -> None:
    sleeper = "import time; time.sleep(30)"
    starter = (
        f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {sleeper!r}]);"
        " time.sleep(30)"
    )
    parent = subprocess.Popen([sys.executable, "-c", starter])  # noqa: S603  # nosec B603
    try:
        deadline = time.monotonic() + 10
        while not psutil.Process(parent.pid).children() and time.monotonic() < deadline:
            time.sleep(0.05)
        child = psutil.Process(parent.pid).children()[0]
        both = tree_rss_mb(parent.pid)
        assert both is not None
        assert both > (child.memory_info().rss / 2**20)  # the child's and the parent's
    finally:
        for process in psutil.Process(parent.pid).children():
            process.kill()
        parent.kill()
        parent.wait()
    assert tree_rss_mb(parent.pid) is None


@pytest.mark.django_db
def test_connections_to_the_database_are_counted_besides_the_one_asking() -> None:
    conninfo = database_url(connection)
    before = database_connections(conninfo)
    with psycopg.connect(conninfo), psycopg.connect(conninfo):
        assert database_connections(conninfo) == before + 2
    assert database_connections(conninfo) == before


@pytest.mark.django_db
def test_the_sampler_records_memory_and_connections_until_the_block_ends() -> None:
    readings: list[dict[str, float | None]] = [
        {"web-1": 100.0, "worker-1": None},  # not started yet
        {"web-1": 120.0, "worker-1": 60.0},
    ]
    sizes = iter(readings)
    sampler = Sampler(rss=lambda: next(sizes, {}), conninfo=database_url(connection), interval=60)
    with sampler.running() as samples:
        pass  # one sample when it starts, one when the block ends
    assert samples.rss_mb == {"web-1": [100.0, 120.0], "worker-1": [60.0]}
    assert len(samples.connections) == 2
    assert all(count >= 1 for count in samples.connections)  # this test's own connection


def test_any_answer_but_2xx_and_3xx_is_an_error() -> None:
    assert failure_of(200) is None
    assert failure_of(302) is None
    assert failure_of(409) == "HTTP 409"
    assert failure_of(502) == "HTTP 502"
    assert failure_of(None, "ConnectionError: refused") == "ConnectionError: refused"


def test_a_page_log_counts_requests_errors_and_percentiles_per_page() -> None:
    log = PageLog()
    for milliseconds in range(1, 101):
        log.record("board", float(milliseconds), None)
    log.record("board", 5000.0, "HTTP 500")
    board = log.pages["board"]
    assert (board.requests, board.failures) == (101, ["HTTP 500"])
    assert board.p50 == 51
    assert board.p95 == 96
    assert timed(lambda: 204)[1:] == (204, "")

    def refused() -> int:
        raise ConnectionError("refused")

    assert timed(refused)[1:] == (None, "ConnectionError: refused")


def test_a_scenario_passes_only_when_its_check_held() -> None:
    assert verdict(True) == "PASS"
    assert Scenario("(a)", "never overlap", "2 overlapping", ok=False).row()[-1] == "FAIL"
