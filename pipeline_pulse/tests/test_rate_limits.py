"""Counts that hold under parallel requests: the API throttles and the per-login export cap.

Each test runs against Redis (REDIS_URL) and against the in-process fallback a laptop without
Redis uses; both are atomic for the requests one process serves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import Client, RequestFactory
from django.urls import reverse
from pytest_django import Settings
from rest_framework.throttling import SimpleRateThrottle

from opportunities.export_views import HeldPieces, board_export_csv
from opportunities.roles import Role
from opportunities.tests.factories import OpportunityFactory, UserFactory
from pipeline_pulse.api.throttles import AnonRateThrottle, UserRateThrottle
from pipeline_pulse.web.rate_limits import SlotTaken, rate_limits_reset, slot_take

THREADS = 16
CALLS_PER_THREAD = 12


@pytest.fixture(params=["redis", "in-process"])
def counts_in(request: pytest.FixtureRequest, settings: Settings) -> Iterator[str]:
    if request.param == "redis":
        if not django_settings.REDIS_URL:
            pytest.skip("REDIS_URL is not set")
    else:
        settings.REDIS_URL = ""
    rate_limits_reset()
    yield request.param
    rate_limits_reset()


def _in_parallel(call: Callable[[], bool]) -> int:
    """How many of THREADS x CALLS_PER_THREAD calls, started together, answered True."""
    start = threading.Barrier(THREADS)
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        start.wait()
        results = [call() for _ in range(CALLS_PER_THREAD)]
        with lock:
            allowed.extend(results)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == THREADS * CALLS_PER_THREAD
    return sum(allowed)


def test_parallel_calls_of_one_login_never_pass_its_rate(
    counts_in: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "40/hour", "anon": None})
    request: Any = SimpleNamespace(user=SimpleNamespace(pk=7, is_authenticated=True), META={})
    assert _in_parallel(lambda: UserRateThrottle().allow_request(request, None)) == 40


def test_parallel_anonymous_calls_never_pass_the_rate(
    counts_in: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": None, "anon": "25/minute"})
    request: Any = SimpleNamespace(
        user=SimpleNamespace(is_authenticated=False),
        META={"REMOTE_ADDR": "203.0.113.9"},
        headers={},
    )
    throttle = AnonRateThrottle()
    assert _in_parallel(lambda: throttle.allow_request(request, None)) == 25
    assert 0 < throttle.wait() <= 60  # seconds until the oldest call leaves the window


def test_parallel_exports_of_one_login_take_at_most_its_slots(counts_in: str) -> None:
    taken = []
    waits = []

    def take() -> bool:
        try:
            taken.append(slot_take(key="exports:7", limit=2))
        except SlotTaken as refused:
            waits.append(refused.retry_after)
            return False
        return True

    assert _in_parallel(take) == 2
    assert set(waits) == {15}
    taken[0].release()
    assert take()  # a finished export frees its slot
    assert not take()
    assert slot_take(key="exports:8", limit=2)  # another login has its own


@pytest.mark.django_db
def test_a_login_over_its_exports_gets_429_with_retry_after(
    counts_in: str, client: Client, settings: Settings
) -> None:
    settings.EXPORTS_PER_LOGIN = 1
    OpportunityFactory.create_batch(3)
    client.force_login(UserFactory.create(role=Role.MANAGER))
    csv, xlsx = reverse("board_export_csv"), reverse("board_export_xlsx")

    streaming: Any = client.get(csv)  # started, still streaming
    refused = client.get(xlsx)
    other = Client()
    other.force_login(UserFactory.create(role=Role.MANAGER))
    assert other.get(csv).status_code == 200  # each login has its own

    assert (streaming.status_code, refused.status_code) == (200, 429)
    assert refused["Retry-After"] == "15"
    assert "Try again in 15 seconds" in refused.content.decode()
    b"".join(streaming.streaming_content)  # the download ends: its slot is free again
    assert client.get(xlsx).status_code == 200


@pytest.mark.django_db
def test_an_abandoned_download_frees_its_slot(counts_in: str, settings: Settings) -> None:
    settings.EXPORTS_PER_LOGIN = 1
    OpportunityFactory.create_batch(3)
    request = RequestFactory().get(reverse("board_export_csv"), {"bom": "0"})
    request.user = UserFactory.create(role=Role.MANAGER)
    download: Any = board_export_csv(request)
    assert next(iter(download)).startswith(b"zoho_id,")
    assert board_export_csv(request).status_code == 429
    # The browser goes away half-way and the server closes the response (without the end
    # of request closing the test's database connection).
    request_finished.disconnect(close_old_connections)
    try:
        download.close()
    finally:
        request_finished.connect(close_old_connections)
    assert board_export_csv(request).status_code == 200


def test_a_download_closed_before_its_first_piece_frees_its_slot(counts_in: str) -> None:
    slot = slot_take(key="exports:9", limit=1)
    HeldPieces(iter([b"never sent"]), slot).close()
    assert slot_take(key="exports:9", limit=1)
