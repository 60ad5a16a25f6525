"""The CurrencyFreaks API behind two typed calls; nothing else knows its URLs or JSON.

Rates are quoted as units of a currency per one US dollar (the free plan's only base). They
arrive as strings and become Decimal without passing through float; a response that is not
exactly what the documentation promises is rejected as a whole, so nothing half-read is
ever stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from random import Random, SystemRandom
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from django.conf import settings

from currency.models import RATE_DECIMAL_PLACES, RATE_MAX_DIGITS
from pipeline_pulse.retrying_http import (
    GaveUp,
    Retry,
    RetryingHttp,
    RetryPolicy,
    retry_after_seconds,
    worth_retrying,
)

logger = logging.getLogger(__name__)

LATEST_PATH = "/v2.0/rates/latest"
HISTORICAL_PATH = "/v2.0/rates/historical"
# A clock a little ahead of ours is normal; a rate "valid" hours from now is not.
_FUTURE_TOLERANCE = timedelta(hours=1)
_RATE_QUANTUM = Decimal(1).scaleb(-RATE_DECIMAL_PLACES)
_MAX_RATE = Decimal(10) ** (RATE_MAX_DIGITS - RATE_DECIMAL_PLACES)


@dataclass(frozen=True, slots=True)
class UsdRates:
    """One answer from CurrencyFreaks: units of each currency per USD, valid at `as_of`."""

    as_of: datetime  # timezone-aware (UTC)
    units_per_usd: dict[str, Decimal]  # only requested currencies; USD is always 1
    missing: tuple[str, ...]  # requested currencies the answer did not include


class CurrencyFreaksError(Exception):
    """A call that failed; str() is one line a person can act on, never containing the key."""

    # Worth trying again later (the task's retries): an outage or an exhausted quota.
    transient: ClassVar[bool] = False


class CurrencyFreaksNotConfigured(CurrencyFreaksError):
    pass


class CurrencyFreaksAuthError(CurrencyFreaksError):
    pass


class CurrencyFreaksPlanError(CurrencyFreaksError):
    pass


class CurrencyFreaksRequestError(CurrencyFreaksError):
    """Any other 4xx: the API understood and refused this request (e.g. a date it lacks)."""


class CurrencyFreaksQuotaError(CurrencyFreaksError):
    transient = True


class CurrencyFreaksUnavailable(CurrencyFreaksError):
    transient = True


class CurrencyFreaksBadResponse(CurrencyFreaksError):
    pass


class CurrencyFreaksClient:
    """Latest and historical USD rates for a fixed list of currencies."""

    # The retry policy; tests shorten it. Worst case with these: about 4 x 20 s plus at most
    # 7 s of back-off, well inside the task's time limit.
    CONNECT_TIMEOUT_SECONDS = 5.0
    READ_TIMEOUT_SECONDS = 20.0
    MAX_ATTEMPTS = 4
    BACKOFF_SECONDS = 1.0
    MAX_BACKOFF_SECONDS = 30.0

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        currencies: Iterable[str],
        sleep: Callable[[float], None] = time.sleep,
        rng: Random | None = None,
    ) -> None:
        if not api_key:
            raise CurrencyFreaksNotConfigured(
                "CURRENCYFREAKS_API_KEY is not set: no rates can be fetched "
                "(`manage.py fx_refresh --seed` stores the bundled seed rates)"
            )
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self.currencies = tuple(dict.fromkeys(code.upper() for code in currencies))
        self._policy = RetryPolicy(
            max_attempts=max(1, self.MAX_ATTEMPTS),
            backoff_base=self.BACKOFF_SECONDS,
            backoff_max=self.MAX_BACKOFF_SECONDS,
            connect_timeout=self.CONNECT_TIMEOUT_SECONDS,
            read_timeout=self.READ_TIMEOUT_SECONDS,
        )
        session = requests.Session()
        session.headers.update(
            {"Accept": "application/json", "User-Agent": "pipeline-pulse/currency"}
        )
        self._http = RetryingHttp(
            service="CurrencyFreaks",
            policy=self._policy,
            logger=logger,
            session=session,
            sleep=sleep,
            rng=rng or SystemRandom(),
        )

    @classmethod
    def from_settings(cls, **overrides: Any) -> CurrencyFreaksClient:
        options: dict[str, Any] = {
            "api_key": settings.CURRENCYFREAKS_API_KEY,
            "base_url": settings.CURRENCYFREAKS_BASE_URL,
            "currencies": settings.FX_CURRENCIES,
        }
        return cls(**(options | overrides))

    @property
    def host(self) -> str:
        return urlsplit(self._base_url).netloc

    def latest_rates(self) -> UsdRates:
        return self._parse_rates(self._get(LATEST_PATH, {}), expected_date=None)

    def historical_rates(self, on: date) -> UsdRates:
        """The rates CurrencyFreaks kept for one UTC day (may need a paid plan)."""
        payload = self._get(HISTORICAL_PATH, {"date": on.isoformat()})
        return self._parse_rates(payload, expected_date=on)

    # --- HTTP ------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, str]) -> Any:
        # The key travels in the query string: nothing below ever shows the URL.
        query = {"apikey": self._api_key, "symbols": ",".join(self.currencies), **params}
        return self._http.send(
            "GET",
            self._base_url + path,
            operation=path,
            params=query,
            judge=lambda response: self._judge(path, response),
            unreachable=self._unreachable,
        )

    def _judge(self, path: str, response: requests.Response) -> Any:
        status = response.status_code
        if status == 401:
            raise CurrencyFreaksAuthError(
                "CurrencyFreaks rejected the API key (HTTP 401): check CURRENCYFREAKS_API_KEY"
            )
        if status == 403:
            raise CurrencyFreaksPlanError(
                "CurrencyFreaks refused the request (HTTP 403): the plan does not include it"
            )
        if worth_retrying(status):  # 429, or 5xx but 501
            raise Retry(
                f"HTTP {status}",
                give_up=self._quota_used_up if status == 429 else self._server_failed,
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if status != 200:
            raise CurrencyFreaksRequestError(
                f"CurrencyFreaks refused {path} (HTTP {status}): {_short_text(response)}"
            )
        try:
            # parse_float: numbers, if a server sends them, never pass through float.
            return response.json(parse_float=Decimal)
        except ValueError:
            raise CurrencyFreaksBadResponse(
                f"CurrencyFreaks sent a body that is not JSON: {_short_text(response)}"
            ) from None

    @staticmethod
    def _quota_used_up(gave_up: GaveUp) -> CurrencyFreaksError:
        if gave_up.asked_to_wait is not None:
            return CurrencyFreaksQuotaError(
                f"CurrencyFreaks says the request quota is used up ({gave_up})"
            )
        return CurrencyFreaksQuotaError(
            "CurrencyFreaks says the request quota is used up (HTTP 429, "
            f"{gave_up.attempts} attempts)"
        )

    @staticmethod
    def _server_failed(gave_up: GaveUp) -> CurrencyFreaksError:
        if gave_up.asked_to_wait is not None:
            return CurrencyFreaksUnavailable(f"CurrencyFreaks is unavailable ({gave_up})")
        return CurrencyFreaksUnavailable(
            f"CurrencyFreaks answered {gave_up.reason} ({gave_up.attempts} attempts)"
        )

    def _unreachable(self, gave_up: GaveUp) -> CurrencyFreaksError:
        if gave_up.timed_out:
            return CurrencyFreaksUnavailable(
                f"CurrencyFreaks at {self.host} did not answer within "
                f"{self._policy.read_timeout:g} s ({gave_up.attempts} attempts)"
            )
        return CurrencyFreaksUnavailable(
            f"Could not reach CurrencyFreaks at {self.host}: {gave_up.reason} "
            f"({gave_up.attempts} attempts)"
        )

    # --- Parsing -----------------------------------------------------------------------------

    def _parse_rates(self, payload: Any, *, expected_date: date | None) -> UsdRates:
        if not isinstance(payload, dict):
            raise CurrencyFreaksBadResponse("CurrencyFreaks sent JSON that is not an object")
        base = payload.get("base", "USD")
        if base != "USD":
            raise CurrencyFreaksBadResponse(f"CurrencyFreaks quoted base {base!r}, not USD")
        rates = payload.get("rates")
        if not isinstance(rates, dict) or not rates:
            raise CurrencyFreaksBadResponse("CurrencyFreaks response has no rates")
        as_of = _parse_as_of(payload.get("date"))
        if expected_date is not None and as_of.date() != expected_date:
            raise CurrencyFreaksBadResponse(
                f"CurrencyFreaks answered for {as_of.date()} instead of {expected_date}"
            )
        # Every rate is checked, not only the requested ones: one bad value means the
        # whole answer cannot be trusted.
        parsed = {str(code).upper(): _parse_rate(code, value) for code, value in rates.items()}
        if not any(code in parsed for code in self.currencies):
            raise CurrencyFreaksBadResponse(
                "CurrencyFreaks returned none of the requested currencies"
            )
        # USD is the base: one dollar per dollar, whether or not the answer lists it.
        parsed.setdefault("USD", Decimal(1))
        wanted = {code: parsed[code] for code in self.currencies if code in parsed}
        missing = tuple(code for code in self.currencies if code not in parsed)
        return UsdRates(as_of=as_of, units_per_usd=wanted, missing=missing)


def _parse_as_of(value: Any) -> datetime:
    """CurrencyFreaks' "2023-03-21 13:26:00+00"; a bare "2023-03-21" means that UTC day."""
    if not isinstance(value, str) or not value.strip():
        raise CurrencyFreaksBadResponse("CurrencyFreaks response has no date")
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise CurrencyFreaksBadResponse(
            f"CurrencyFreaks response has a bad date: {text[:40]!r}"
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise CurrencyFreaksBadResponse(
            f"CurrencyFreaks response date has no UTC offset: {text[:40]!r}"
        )
    if parsed > datetime.now(UTC) + _FUTURE_TOLERANCE:
        raise CurrencyFreaksBadResponse(
            f"CurrencyFreaks response date is in the future: {text[:40]!r}"
        )
    return parsed.astimezone(UTC)


def _parse_rate(code: Any, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | Decimal | int):
        raise CurrencyFreaksBadResponse(f"CurrencyFreaks rate for {code} is not a number")
    try:
        rate = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise CurrencyFreaksBadResponse(
            f"CurrencyFreaks rate for {code} is not a number: {str(value)[:40]!r}"
        ) from None
    if not rate.is_finite() or rate <= 0:
        raise CurrencyFreaksBadResponse(
            f"CurrencyFreaks rate for {code} is not a positive number: {str(value)[:40]!r}"
        )
    if rate >= _MAX_RATE:
        raise CurrencyFreaksBadResponse(f"CurrencyFreaks rate for {code} is implausibly large")
    # Stored with 18 decimals: rounding here keeps what is cached equal to what is stored.
    rounded = rate.quantize(_RATE_QUANTUM, rounding=ROUND_HALF_UP)
    if rounded <= 0:
        raise CurrencyFreaksBadResponse(f"CurrencyFreaks rate for {code} is implausibly small")
    return rounded


def _short_text(response: requests.Response) -> str:
    text = " ".join(response.text.split())
    return (text[:120] + "…") if len(text) > 120 else (text or "(empty body)")
