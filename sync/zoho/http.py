"""HTTP for the Zoho client: timeouts, retries with backoff and jitter, JSON decoding."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import requests

from pipeline_pulse.http import retry_after_seconds
from sync.zoho.errors import (
    ZohoBadResponseError,
    ZohoRateLimitError,
    ZohoUnavailableError,
    scrub,
)

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
BODY_STATUSES = frozenset({200, 201, 202, 207})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry 429, 5xx and network failures."""

    max_attempts: int = 6
    backoff_base: float = 1.0  # seconds; attempt n waits up to base * 2**(n-1)
    backoff_max: float = 60.0  # no single wait is longer, Retry-After included
    connect_timeout: float = 5.0
    read_timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with full jitter, so many workers do not retry in step."""
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return rng.uniform(0, ceiling)


@dataclass
class WireResponse:
    status: int
    body: Any  # decoded JSON (floats as Decimal), or None for 204/304/empty/non-JSON errors
    headers: Mapping[str, str]


def decode_json(response: requests.Response) -> Any:
    """Zoho's JSON with every non-integer number as Decimal: money never passes through float."""
    if not response.content:
        return None
    return response.json(parse_float=Decimal, parse_constant=Decimal)


@dataclass
class Transport:
    """One requests session plus the retry policy; counts the calls made to the API domain."""

    policy: RetryPolicy
    secrets: Callable[[], list[str]]
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    rng: random.Random = field(default_factory=random.Random)
    api_calls: int = 0

    def send(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        data: bytes | None = None,
        count_as_api_call: bool = True,
    ) -> WireResponse:
        """Send, retrying what is worth retrying; returns the first final answer."""
        policy = self.policy
        for attempt in range(1, policy.max_attempts + 1):
            if count_as_api_call:
                self.api_calls += 1
            failure: str
            wait: float | None = None
            bad_body = False
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    headers=headers,
                    data=form if form is not None else data,
                    timeout=(policy.connect_timeout, policy.read_timeout),
                    allow_redirects=False,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                failure = f"{type(exc).__name__}"
                rate_limited = False
            else:
                status = response.status_code
                rate_limited = status == 429
                if status in RETRYABLE_STATUSES:
                    failure = f"HTTP {status}{_zoho_code(response)}"
                    wait = retry_after_seconds(response.headers.get("Retry-After"))
                    if wait is not None and wait > policy.backoff_max:
                        raise self._give_up(
                            operation,
                            f"{failure}; Zoho asks to wait {wait:.0f} s, longer than the "
                            f"{policy.backoff_max:.0f} s this client waits",
                            rate_limited,
                        )
                else:
                    try:
                        body = decode_json(response)
                    except ValueError:
                        if status not in BODY_STATUSES:
                            return WireResponse(status, None, response.headers)
                        failure = f"HTTP {status} with a body that is not JSON"
                        bad_body = True
                    else:
                        return WireResponse(status, body, response.headers)
            if attempt == policy.max_attempts:
                if bad_body:
                    raise ZohoBadResponseError(
                        f"{operation}: Zoho answered {failure} {attempt} times"
                    )
                raise self._give_up(operation, f"{failure} on all {attempt} attempts", rate_limited)
            delay = wait if wait is not None else policy.backoff(attempt, self.rng)
            logger.warning(
                "Zoho %s: %s (attempt %d of %d); retrying in %.2f s",
                operation,
                failure,
                attempt,
                policy.max_attempts,
                delay,
            )
            self.sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _give_up(self, operation: str, what: str, rate_limited: bool) -> Exception:
        message = scrub(f"{operation}: {what}", self.secrets())
        if rate_limited:
            return ZohoRateLimitError(message)
        return ZohoUnavailableError(message)


def _zoho_code(response: requests.Response) -> str:
    """` INTERNAL_ERROR`, when the error body names Zoho's code; for log lines and errors."""
    try:
        body = decode_json(response)
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        return f" {body['code']}"
    return ""
