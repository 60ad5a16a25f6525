"""HTTP for the Zoho client: the shared retry engine, Zoho's retryable answers, JSON decoding.

API calls read the access token afresh for every attempt, and a token Zoho rejects with
INVALID_TOKEN is replaced and the call tried again within the same attempts: Zoho drops the
oldest access token once more than 15 exist for a refresh token, at any moment.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import requests

from pipeline_pulse.retrying_http import (
    GaveUp,
    Retry,
    RetryingHttp,
    RetryPolicy,
    retry_after_seconds,
    worth_retrying,
)
from sync.zoho.errors import (
    ZohoAuthError,
    ZohoBadResponseError,
    ZohoError,
    ZohoRateLimitError,
    ZohoUnavailableError,
    scrub,
)

logger = logging.getLogger(__name__)

BODY_STATUSES = frozenset({200, 201, 202, 207})
# Token problems a fresh token cures; other 401/403 codes are permanent.
REPLACEABLE_TOKEN_CODES = frozenset({"INVALID_TOKEN"})


@dataclass
class WireResponse:
    status: int
    body: Any  # decoded JSON (floats as Decimal), or None for 204/304/empty/non-JSON errors
    headers: Mapping[str, str]


class TokenSource(Protocol):
    """Where API calls get their access token (auth.AccessTokens)."""

    def current(self) -> str: ...

    def replace_rejected(self, rejected: str) -> str: ...


class _Authorization:
    """One call's Authorization header: the current token for every attempt, and a
    replacement for the attempt after Zoho rejected one."""

    def __init__(self, tokens: TokenSource) -> None:
        self._tokens = tokens
        self._sent = ""
        self._rejected = False

    def header(self) -> str:
        if self._rejected:
            # Replaced here rather than when refused, so a last refused attempt mints nothing.
            self._sent = self._tokens.replace_rejected(self._sent)
            self._rejected = False
        else:
            self._sent = self._tokens.current()
        return f"Zoho-oauthtoken {self._sent}"

    def reject(self) -> None:
        self._rejected = True


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
    ) -> None:
        self.secrets = secrets
        self.api_calls = 0
        self._http = RetryingHttp(
            service="Zoho",
            policy=policy,
            logger=logger,
            session=session or requests.Session(),
            sleep=sleep,
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
        tokens: TokenSource | None = None,
    ) -> WireResponse:
        """Send, retrying what is worth retrying; returns the first final answer.

        With `tokens` it is an API call: every attempt carries the current access token and
        counts in `api_calls`. Without, it goes to the accounts server as it is.
        """
        authorization = _Authorization(tokens) if tokens is not None else None

        def each_attempt() -> Mapping[str, str]:
            if authorization is None:
                return headers or {}
            header = authorization.header()
            self.api_calls += 1
            return {**(headers or {}), "Authorization": header}

        return self._http.send(
            method,
            url,
            operation=operation,
            params=params,
            headers=each_attempt,
            data=form if form is not None else data,
            judge=lambda response: self._judge(response, operation, authorization),
            unreachable=lambda gave_up: self._give_up(operation, gave_up, rate_limited=False),
        )

    def _judge(
        self, response: requests.Response, operation: str, authorization: _Authorization | None
    ) -> WireResponse:
        status = response.status_code
        if (
            status == 401
            and authorization is not None
            and _error_code(response) in REPLACEABLE_TOKEN_CODES
        ):
            authorization.reject()
            raise Retry(
                _failure(response),
                give_up=lambda gave_up: ZohoAuthError(
                    scrub(
                        f"{operation}: Zoho refused every access token ({gave_up})",
                        self.secrets(),
                    )
                ),
                pause=False,
            )
        if worth_retrying(status):
            rate_limited = status == 429
            raise Retry(
                _failure(response),
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


def _error_code(response: requests.Response) -> str:
    """Zoho's code from an error body (`INVALID_TOKEN`), or "" when it names none."""
    try:
        body = decode_json(response)
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        return str(body["code"])
    return ""


def _failure(response: requests.Response) -> str:
    """`HTTP 500 INTERNAL_ERROR`: a failed answer as log lines and errors name it."""
    return " ".join(filter(None, (f"HTTP {response.status_code}", _error_code(response))))
