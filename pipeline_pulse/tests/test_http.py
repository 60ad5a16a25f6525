"""The shared retry engine over real HTTP: when it retries, how long it waits, when it stops."""

from __future__ import annotations

import logging
import socket
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from random import Random

import pytest
import requests
from prometheus_client import REGISTRY

from pipeline_pulse.retrying_http import (
    GaveUp,
    Retry,
    RetryingHttp,
    RetryPolicy,
    retry_after_seconds,
    worth_retrying,
)
from simulator.faults import Fault
from simulator.http import Request, Response
from simulator.server import SimulatedApi, SimulatorServer

logger = logging.getLogger(__name__)


class StatusApi(SimulatedApi):
    """Answers /answer with the scripted statuses in turn, then 200 with the headers it got."""

    name = "status"

    def __init__(self) -> None:
        super().__init__()
        self.scripted: deque[Response] = deque()
        self.authorizations: list[str | None] = []
        self.router.add("GET", "/answer", self.answer)

    def answer(self, request: Request) -> Response:
        self.authorizations.append(request.header("Authorization"))
        if self.scripted:
            return self.scripted.popleft()
        return Response.json({"ok": True})


class Failed(Exception):
    def __init__(self, gave_up: GaveUp) -> None:
        super().__init__(str(gave_up))
        self.gave_up = gave_up


class Refused(Exception):
    """A judge's own error: not worth another attempt."""


def judge(response: requests.Response) -> int:
    if response.status_code == 418:
        raise Refused("no")
    if worth_retrying(response.status_code):
        raise Retry(
            f"HTTP {response.status_code}",
            give_up=Failed,
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    return response.status_code


@dataclass
class Served:
    api: StatusApi
    server: SimulatorServer
    sleeps: list[float] = field(default_factory=list)

    def http(self, *, max_attempts: int = 4) -> RetryingHttp:
        return RetryingHttp(
            service="Status",
            policy=RetryPolicy(
                max_attempts=max_attempts, backoff_base=0.5, backoff_max=10.0, read_timeout=0.3
            ),
            logger=logger,
            sleep=self.sleeps.append,
            rng=Random(3),
        )

    def send(
        self, http: RetryingHttp, headers: Callable[[], Mapping[str, str]] | None = None
    ) -> int:
        return http.send(
            "GET",
            f"{self.server.url}/answer",
            operation="get the answer",
            judge=judge,
            unreachable=Failed,
            headers=headers,
        )


@pytest.fixture
def served() -> Iterator[Served]:
    api = StatusApi()
    api.faults.stall_seconds = 0.6
    with SimulatorServer([api]) as server:
        yield Served(api, server)


def test_retries_until_the_judge_accepts_waiting_as_retry_after_says(served: Served) -> None:
    served.api.scripted.extend(
        [Response.json({}, status=503), Response.json({}, status=429, **{"Retry-After": "2"})]
    )

    assert served.send(served.http()) == 200

    assert len(served.api.authorizations) == 3
    assert 0 <= served.sleeps[0] <= 0.5  # backoff: full jitter below the base
    assert served.sleeps[1] == 2.0  # Retry-After, exactly


def test_every_attempt_carries_the_headers_built_for_it(served: Served) -> None:
    served.api.scripted.extend([Response.json({}, status=500)] * 2)
    tokens = iter(["first", "second", "third"])

    served.send(served.http(), headers=lambda: {"Authorization": next(tokens)})

    assert served.api.authorizations == ["first", "second", "third"]


def test_attempts_are_bounded_and_the_last_failure_is_named(served: Served) -> None:
    served.api.scripted.extend([Response.json({}, status=502)] * 10)

    with pytest.raises(Failed, match="HTTP 502 on all 3 attempts") as failed:
        served.send(served.http(max_attempts=3))

    assert failed.value.gave_up.attempts == 3
    assert len(served.api.authorizations) == 3
    assert len(served.sleeps) == 2


def test_a_retry_after_longer_than_the_longest_wait_fails_at_once(served: Served) -> None:
    served.api.scripted.append(Response.json({}, status=429, **{"Retry-After": "3600"}))

    with pytest.raises(Failed) as failed:
        served.send(served.http())

    assert str(failed.value) == (
        "HTTP 429; Status asks to wait 3600 s, longer than the 10 s this client waits"
    )
    assert failed.value.gave_up.asked_to_wait == 3600.0
    assert served.sleeps == []
    assert len(served.api.authorizations) == 1


def test_a_judges_own_error_ends_the_call_at_once(served: Served) -> None:
    served.api.scripted.append(Response.json({}, status=418))

    with pytest.raises(Refused):
        served.send(served.http())

    assert len(served.api.authorizations) == 1


def test_a_retry_without_pause_tries_again_at_once(served: Served) -> None:
    rejected = iter([True, False])

    def judge_once(response: requests.Response) -> int:
        if next(rejected):
            raise Retry("HTTP 401", give_up=Failed, pause=False)
        return response.status_code

    result = served.http().send(
        "GET", f"{served.server.url}/answer", operation="o", judge=judge_once, unreachable=Failed
    )

    assert result == 200
    assert served.sleeps == []


def test_timeouts_are_retried_and_reported_as_timeouts(served: Served) -> None:
    served.api.faults.fail_next(Fault.TIMEOUT, Fault.TIMEOUT)

    with pytest.raises(Failed, match="ReadTimeout on all 2 attempts") as failed:
        served.send(served.http(max_attempts=2))

    assert failed.value.gave_up.timed_out


def test_an_unreachable_host_is_named_without_its_url(served: Served) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    http = served.http(max_attempts=2)

    with pytest.raises(Failed) as failed:
        http.send(
            "GET",
            f"http://127.0.0.1:{port}/answer?apikey=secret-key-123",
            operation="get the answer",
            judge=judge,
            unreachable=Failed,
        )

    assert str(failed.value) == "ConnectionError on all 2 attempts"
    assert not failed.value.gave_up.timed_out
    # Nor in a chained exception that a traceback or an error tracker would show.
    assert "secret-key-123" not in "".join(traceback.format_exception(failed.value))


def test_backoff_doubles_up_to_the_longest_wait_with_full_jitter() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_max=5.0)

    class Highest(Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    assert [policy.backoff(n, Highest()) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    rng = Random(5)
    waits = [policy.backoff(3, rng) for _ in range(200)]
    assert all(0 <= wait <= 4.0 for wait in waits)
    # Spread over the whole range, not bunched near the ceiling.
    assert min(waits) < 1.0
    assert max(waits) > 3.0


@pytest.mark.parametrize(
    ("status", "retried"),
    [
        *[(429, True), (500, True), (501, False), (503, True), (505, True), (599, True)],
        *[(400, False), (401, False), (404, False), (600, False)],
    ],
)
def test_429_and_every_5xx_but_501_are_worth_retrying(status: int, retried: bool) -> None:
    assert worth_retrying(status) is retried


def test_a_policy_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(max_attempts=0)


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    now = datetime(2026, 2, 20, 12, 0, tzinfo=UTC).timestamp()

    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Fri, 20 Feb 2026 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("Fri, 20 Feb 2026 11:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def _counted(service: str = "status") -> dict[str, float]:
    """Attempts and retries counted for Prometheus so far, by metric and outcome."""
    counts: dict[str, float] = {}
    for family in REGISTRY.collect():
        if family.name not in ("pipeline_pulse_api_calls", "pipeline_pulse_api_retries"):
            continue
        for sample in family.samples:
            if sample.name.endswith("_total") and sample.labels["service"] == service:
                counts[f"{family.name[15:]} {sample.labels['outcome']}"] = sample.value
    return counts


def test_every_attempt_and_every_retry_is_counted(served: Served) -> None:
    before = _counted()
    served.api.faults.fail_next(Fault.UNAVAILABLE, Fault.RATE_LIMITED, Fault.TIMEOUT)

    assert served.send(served.http()) == 200

    after = _counted()
    assert {
        key: value - before.get(key, 0) for key, value in after.items() if value != before.get(key)
    } == {
        "api_calls 503": 1,
        "api_calls 429": 1,
        "api_calls ReadTimeout": 1,
        "api_calls 200": 1,
        "api_retries 503": 1,
        "api_retries 429": 1,
        "api_retries ReadTimeout": 1,
    }


def test_the_attempt_that_gives_up_is_counted_but_not_as_a_retry(served: Served) -> None:
    before = _counted()
    served.api.scripted.extend([Response.json({}, status=502)] * 2)

    with pytest.raises(Failed):
        served.send(served.http(max_attempts=2))

    after = _counted()
    assert after["api_calls 502"] - before.get("api_calls 502", 0) == 2
    assert after["api_retries 502"] - before.get("api_retries 502", 0) == 1
