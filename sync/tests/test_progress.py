"""Progress of a run reaches the browser's channel group and the terminal's progress line."""

import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management.base import OutputWrapper

from sync.consumers import SYNC_PROGRESS_GROUP
from sync.management.commands.zoho_sync import TerminalProgress
from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger
from sync.services import DealSource, zoho_sync
from sync.tests.fakes import FakeDealSource, deal_record
from sync.zoho.records import DealPage

pytestmark = pytest.mark.django_db


class ManualClock:
    """Stands in for the `time` module of sync.services: the test decides what time it is."""

    def __init__(self) -> None:
        self.now = 1000.0  # as from time.monotonic(): an arbitrary, positive origin

    def monotonic(self) -> float:
        return self.now


class TimedDealSource(FakeDealSource):
    """Each page takes `seconds_per_page` of the test clock to arrive."""

    def __init__(self, deals: int, *, clock: ManualClock, seconds_per_page: float) -> None:
        super().__init__([deal_record(n) for n in range(deals)], page_size=10)
        self.clock = clock
        self.seconds_per_page = seconds_per_page

    def iter_deal_pages(self, *, modified_since: datetime | None = None) -> Iterator[DealPage]:
        for page in super().iter_deal_pages(modified_since=modified_since):
            self.clock.now += self.seconds_per_page
            yield page


def _events_published_by_a_sync(source: DealSource) -> list[dict[str, Any]]:
    """Run a full sync while listening to the group; its events up to the run's last one."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(SYNC_PROGRESS_GROUP, channel)
    try:
        zoho_sync(kind=SyncKind.FULL, trigger=SyncTrigger.COMMAND, source=source)

        async def events_until_done() -> list[dict[str, Any]]:
            # One event loop for all receives: the Redis layer buffers per loop.
            events = [await layer.receive(channel)]
            while events[-1]["run"]["status"] == SyncStatus.RUNNING:
                events.append(await layer.receive(channel))
            return events

        return async_to_sync(events_until_done)()
    finally:
        async_to_sync(layer.group_discard)(SYNC_PROGRESS_GROUP, channel)


def _fetched(events: list[dict[str, Any]]) -> list[int]:
    return [event["run"]["fetched"] for event in events]


def _timed_sync(
    monkeypatch: pytest.MonkeyPatch, *, deals: int, seconds_per_page: float
) -> list[dict[str, Any]]:
    clock = ManualClock()
    # Only sync.services' view of the clock: patching time.monotonic itself would also move
    # the clock of the event loop that the channel layer runs on.
    monkeypatch.setattr("sync.services.pull.time", clock)
    source = TimedDealSource(deals, clock=clock, seconds_per_page=seconds_per_page)
    return _events_published_by_a_sync(source)


def test_every_page_is_published_when_the_interval_is_zero(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sync.services.pull.PUBLISH_INTERVAL_SECONDS", 0.0)
    events = _timed_sync(monkeypatch, deals=25, seconds_per_page=0.0)
    assert {event["type"] for event in events} == {"sync.progress"}
    assert _fetched(events) == [10, 20, 25, 25]
    assert events[-1]["run"]["status"] == SyncStatus.SUCCEEDED


def test_pages_within_a_second_of_the_last_publish_wait_for_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = _timed_sync(monkeypatch, deals=25, seconds_per_page=0.0)
    assert _fetched(events) == [10, 25]


def test_a_slow_sync_publishes_at_most_once_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pages arrive at 0.4, 0.8, 1.2, 1.6, 2.0 and 2.4 s: published at 0.4 and 1.6 s, then the end.
    events = _timed_sync(monkeypatch, deals=55, seconds_per_page=0.4)
    assert _fetched(events) == [10, 40, 55]
    assert [event["run"]["pages"] for event in events] == [1, 4, 6]


def test_on_the_real_clock_progress_only_grows_and_ends_with_the_outcome() -> None:
    """However fast this machine is: which pages are published depends on it, this does not."""
    events = _events_published_by_a_sync(
        FakeDealSource([deal_record(n) for n in range(25)], page_size=10)
    )
    fetched = _fetched(events)
    assert fetched == sorted(fetched)
    assert set(fetched) <= {10, 20, 25}
    assert len(events) <= 4  # three pages and the end
    assert events[-1]["run"]["status"] == SyncStatus.SUCCEEDED
    assert fetched[-1] == 25


def test_terminal_progress_draws_a_bar_when_the_total_is_known() -> None:
    out = io.StringIO()
    progress = TerminalProgress(OutputWrapper(out))
    progress(SyncRun(kind=SyncKind.FULL, fetched=500, pages=3, expected_total=1000))
    line = out.getvalue()
    assert line.startswith("\r[###############...............]  50% 500 deals · page 3")
    assert not line.endswith("\n")
