"""HTTP for the Zoho client: the shared retry engine, Zoho's retryable answers, JSON decoding."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from random import Random, SystemRandom
from typing import Any

import requests

from pipeline_pulse.http import GaveUp, Retry, RetryingHttp, RetryPolicy, retry_after_seconds
from sync.zoho.errors import (
    ZohoBadResponseError,
    ZohoError,
    ZohoRateLimitError,
    ZohoUnavailableError,
    scrub,
)

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
BODY_STATUSES = frozenset({200, 201, 202, 207})


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


class Transport:
    """Sends to Zoho through the retry engine; counts the calls made to the API domain."""

    def __init__(
        self,
        *,
        policy: RetryPolicy,
        secrets: Callable[[], list[str]],
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        rng: Random | None = None,
    ) -> None:
        self.policy = policy
        self.secrets = secrets
        self.api_calls = 0
        self._http = RetryingHttp(
            service="Zoho",
            policy=policy,
            logger=logger,
            session=session or requests.Session(),
            sleep=sleep,
            rng=rng or SystemRandom(),
        )

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

        def each_attempt() -> Mapping[str, str]:
            if count_as_api_call:
                self.api_calls += 1
            return headers or {}

        return self._http.send(
            method,
            url,
            operation=operation,
            params=params,
            headers=each_attempt,
            data=form if form is not None else data,
            judge=lambda response: self._judge(response, operation),
            unreachable=lambda gave_up: self._give_up(operation, gave_up, rate_limited=False),
        )

    def _judge(self, response: requests.Response, operation: str) -> WireResponse:
        status = response.status_code
        if status in RETRYABLE_STATUSES:
            rate_limited = status == 429
            raise Retry(
                f"HTTP {status}{_zoho_code(response)}",
                give_up=lambda gave_up: self._give_up(operation, gave_up, rate_limited),
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        try:
            body = decode_json(response)
        except ValueError:
            if status not in BODY_STATUSES:
                return WireResponse(status, None, response.headers)
            raise Retry(
                f"HTTP {status} with a body that is not JSON",
                give_up=lambda gave_up: ZohoBadResponseError(
                    f"{operation}: Zoho answered {gave_up.reason} {gave_up.attempts} times"
                ),
            ) from None
        return WireResponse(status, body, response.headers)

    def _give_up(self, operation: str, gave_up: GaveUp, rate_limited: bool) -> ZohoError:
        message = scrub(f"{operation}: {gave_up}", self.secrets())
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
