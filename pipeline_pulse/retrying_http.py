"""The one HTTP retry engine both external-API clients (Zoho, CurrencyFreaks) send through.

Bounded attempts, exponential backoff with full jitter, Retry-After honoured; every attempt
and every retry is counted for Prometheus (pipeline_pulse.observability.metrics). Each client
judges its own answers (what is worth another attempt) and raises its own typed errors; the
engine only decides when to try again, how long to wait first, and when to give up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC
from email.utils import parsedate_to_datetime
from random import Random, SystemRandom
from typing import TypeVar

import requests

from pipeline_pulse.observability.metrics import api_call_observe, api_retry_observe

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry, and how long one attempt may take."""

    max_attempts: int = 6
    backoff_base: float = 1.0  # seconds; attempt n waits up to base * 2**(n-1)
    backoff_max: float = 60.0  # no single wait is longer, Retry-After included
    connect_timeout: float = 5.0
    read_timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff(self, attempt: int, rng: Random) -> float:
        """Exponential backoff with full jitter, so many workers do not retry in step."""
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return rng.uniform(0, ceiling)


@dataclass(frozen=True)
class GaveUp:
    """Why the engine stopped trying; the client turns it into its own typed error."""

    service: str
    reason: str  # the last failure, e.g. "HTTP 503" or "ReadTimeout"; never holds a secret
    attempts: int
    longest_wait: float  # the policy's backoff_max
    asked_to_wait: float | None = None  # set when a Retry-After was longer than longest_wait
    timed_out: bool = False  # the last attempt's connection or read timed out

    def __str__(self) -> str:
        if self.asked_to_wait is not None:
            return (
                f"{self.reason}; {self.service} asks to wait {self.asked_to_wait:.0f} s, "
                f"longer than the {self.longest_wait:g} s this client waits"
            )
        return f"{self.reason} on all {self.attempts} attempts"


class Retry(Exception):
    """A client's judge raises this: the attempt failed, and another attempt may succeed.

    `give_up` builds the client's error if no attempt is left; `retry_after` is the server's
    Retry-After in seconds; `pause=False` tries again at once (the cure is not time, e.g. a
    replaced access token).
    """

    def __init__(
        self,
        reason: str,
        *,
        give_up: Callable[[GaveUp], Exception],
        retry_after: float | None = None,
        pause: bool = True,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.give_up = give_up
        self.retry_after = retry_after
        self.pause = pause


def worth_retrying(status: int) -> bool:
    """429 and every 5xx but 501 Not Implemented, which no number of attempts will change."""
    return status == 429 or (500 <= status <= 599 and status != 501)


@dataclass
class RetryingHttp:
    """A requests session that sends each request under a retry policy."""

    service: str  # names the API in log lines and errors: "Zoho", "CurrencyFreaks"
    policy: RetryPolicy
    # The client's own logger, so silencing a client silences its retry notices too.
    logger: logging.Logger
    session: requests.Session = field(default_factory=requests.Session)
    sleep: Callable[[float], None] = time.sleep
    # Jitter, not security; tests pass a seeded Random.
    rng: Random = field(default_factory=SystemRandom)

    def send(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        judge: Callable[[requests.Response], T],
        unreachable: Callable[[GaveUp], Exception],
        headers: Callable[[], Mapping[str, str]] | None = None,
        params: Mapping[str, str] | None = None,
        data: bytes | Mapping[str, str] | None = None,
    ) -> T:
        """Send until `judge` accepts an answer, and return what it made of it.

        `headers()` runs right before every attempt, so each attempt can carry fresh ones (a
        new access token). `judge` returns a result, raises Retry, or raises the client's own
        error, which ends the call at once. Network failures (timeouts, refused connections,
        any requests exception) are retried too; `unreachable` phrases the error if they use
        up the attempts.
        """
        attempt = 1
        while True:
            status: str | None = None
            try:
                response = self._attempt(method, url, headers, params, data, unreachable)
                status = str(response.status_code)
                return judge(response)
            except Retry as retry:
                delay = self._delay_before_retrying(retry, attempt)
                # A network failure's Retry is named after the exception (ReadTimeout...).
                api_retry_observe(service=self.service, outcome=status or retry.reason)
                self.logger.warning(
                    "%s %s: %s (attempt %d of %d); retrying %s",
                    self.service,
                    operation,
                    retry.reason,
                    attempt,
                    self.policy.max_attempts,
                    f"in {delay:.2f} s" if retry.pause else "at once",
                )
                if retry.pause:
                    self.sleep(delay)
                attempt += 1

    def _attempt(
        self,
        method: str,
        url: str,
        headers: Callable[[], Mapping[str, str]] | None,
        params: Mapping[str, str] | None,
        data: bytes | Mapping[str, str] | None,
        unreachable: Callable[[GaveUp], Exception],
    ) -> requests.Response:
        policy = self.policy
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                headers=headers() if headers else None,
                data=data,
                timeout=(policy.connect_timeout, policy.read_timeout),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            # The exception's text holds the URL, and a query string may hold an API key:
            # only the kind of failure is named.
            api_call_observe(service=self.service, outcome=type(exc).__name__)
            timed_out = isinstance(exc, requests.Timeout)
            raise Retry(
                type(exc).__name__,
                give_up=lambda gave_up: unreachable(replace(gave_up, timed_out=timed_out)),
            ) from None
        api_call_observe(service=self.service, outcome=str(response.status_code))
        return response

    def _delay_before_retrying(self, retry: Retry, attempt: int) -> float:
        """Seconds to wait before the next attempt; raises the client's error if none is left."""
        policy = self.policy
        gave_up = GaveUp(self.service, retry.reason, attempt, policy.backoff_max)
        wait = retry.retry_after
        if wait is not None and wait > policy.backoff_max:
            raise retry.give_up(replace(gave_up, asked_to_wait=wait)) from None
        if attempt >= policy.max_attempts:
            raise retry.give_up(gave_up) from None
        if not retry.pause:
            return 0.0
        return wait if wait is not None else policy.backoff(attempt, self.rng)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A Retry-After header as seconds to wait: a number of seconds, or an HTTP date.

    None when absent or unreadable, so the caller falls back on its own backoff.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:  # HTTP dates are GMT by definition
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))
