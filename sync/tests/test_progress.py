"""Progress of a run reaches the browser's channel group and the terminal's progress line."""

import io
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management.base import OutputWrapper

from sync.consumers import SYNC_PROGRESS_GROUP
from sync.management.commands.zoho_sync import TerminalProgress
from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger
from sync.services import zoho_sync
from sync.tests.fakes import FakeDealSource, deal_record

pytestmark = pytest.mark.django_db


def _events_published_by_a_sync() -> list[dict[str, Any]]:
    """Sync 25 deals in pages of 10 while listening to the group, up to the run's last event."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(SYNC_PROGRESS_GROUP, channel)
    try:
        zoho_sync(
            kind=SyncKind.FULL,
            trigger=SyncTrigger.COMMAND,
            source=FakeDealSource([deal_record(n) for n in range(25)], page_size=10),
        )

        async def events_until_done() -> list[dict[str, Any]]:
            # One event loop for all receives: the Redis layer buffers per loop.
            events = [await layer.receive(channel)]
            while events[-1]["run"]["status"] == SyncStatus.RUNNING:
                events.append(await layer.receive(channel))
            return events

        return async_to_sync(events_until_done)()
    finally:
        async_to_sync(layer.group_discard)(SYNC_PROGRESS_GROUP, channel)


def test_pages_are_published_to_the_progress_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sync.services.PUBLISH_INTERVAL_SECONDS", 0.0)  # every page
    events = _events_published_by_a_sync()
    assert {event["type"] for event in events} == {"sync.progress"}
    assert [event["run"]["fetched"] for event in events] == [10, 20, 25, 25]
    assert events[-1]["run"]["status"] == SyncStatus.SUCCEEDED


def test_a_fast_sync_publishes_its_first_page_and_its_end() -> None:
    events = _events_published_by_a_sync()
    assert [event["run"]["fetched"] for event in events] == [10, 25]


def test_terminal_progress_draws_a_bar_when_the_total_is_known() -> None:
    out = io.StringIO()
    progress = TerminalProgress(OutputWrapper(out))
    progress(SyncRun(kind=SyncKind.FULL, fetched=500, pages=3, expected_total=1000))
    line = out.getvalue()
    assert line.startswith("\r[###############...............]  50% 500 deals · page 3")
    assert not line.endswith("\n")
