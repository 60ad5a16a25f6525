"""A local CurrencyFreaks: latest and historical USD rates and the supported currencies.

It speaks the documented wire format (string rates, `"YYYY-MM-DD HH:MM:SS+00"` dates, base
USD), checks the API key, refuses other bases as the free plan does, and serves realistic
rates that drift a little, deterministically, from day to day. Tests can pin a rate, remove a
currency, script the next answer, or inject faults through the inherited FaultPlan.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from simulator.faults import Fault
from simulator.http import Request, Response
from simulator.server import SimulatedApi

DEFAULT_API_KEY = "sim-currencyfreaks-key"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S+00"
# Earliest day the simulator has history for, like the real service's limit.
HISTORY_STARTS = date(2000, 1, 1)
_DRIFT_EPOCH = date(2024, 1, 1)

# Units per USD around early 2024, with the currency's name for /supported-currencies.
BASE_RATES: dict[str, tuple[str, str]] = {
    "USD": ("1.0", "US Dollar"),
    "SGD": ("1.3421", "Singapore Dollar"),
    "EUR": ("0.9212", "Euro"),
    "GBP": ("0.7891", "British Pound"),
    "INR": ("83.12", "Indian Rupee"),
    "PHP": ("56.05", "Philippine Peso"),
    "MYR": ("4.698", "Malaysian Ringgit"),
    "IDR": ("15800", "Indonesian Rupiah"),
    "THB": ("35.42", "Thai Baht"),
    "VND": ("24500", "Vietnamese Dong"),
    "AUD": ("1.523", "Australian Dollar"),
    "JPY": ("150.25", "Japanese Yen"),
    "CNY": ("7.2345", "Chinese Yuan"),
    "HKD": ("7.821", "Hong Kong Dollar"),
    "NZD": ("1.642", "New Zealand Dollar"),
    "CHF": ("0.879", "Swiss Franc"),
    "CAD": ("1.358", "Canadian Dollar"),
    "KRW": ("1331.5", "South Korean Won"),
    "TWD": ("31.95", "New Taiwan Dollar"),
    "AED": ("3.6725", "UAE Dirham"),
    "SAR": ("3.75", "Saudi Riyal"),
    "ZAR": ("18.62", "South African Rand"),
    "BDT": ("109.75", "Bangladeshi Taka"),
    "LKR": ("302.1", "Sri Lankan Rupee"),
    "KWD": ("0.3075", "Kuwaiti Dinar"),
}


def _error(status: int, message: str) -> Response:
    return Response.json(
        {"success": False, "error": {"status": status, "message": message}}, status
    )


class CurrencyFreaksSimulator(SimulatedApi):
    name = "currencyfreaks"

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._pinned: dict[tuple[date | None, str], str] = {}
        self._removed: set[str] = set()
        self._scripted: deque[Response] = deque()
        self.router.add("GET", "/v2.0/rates/latest", self.latest)
        self.router.add("GET", "/v2.0/rates/historical", self.historical)
        self.router.add("GET", "/v2.0/supported-currencies", self.supported_currencies)

    # --- What tests and the demo control -------------------------------------------------------

    def set_rate(self, currency: str, value: str | Decimal, *, on: date | None = None) -> None:
        """Serve exactly this rate text (anything, even "abc") for the latest or one day."""
        with self._lock:
            self._pinned[on, currency.upper()] = str(value)
            self._removed.discard(currency.upper())

    def remove_currency(self, currency: str) -> None:
        """Stop serving a currency anywhere, as if CurrencyFreaks had dropped it."""
        with self._lock:
            self._removed.add(currency.upper())

    def respond_next(self, payload: Any, status: int = 200) -> None:
        """The next rates call (latest or historical) answers with this JSON, whatever it is."""
        with self._lock:
            self._scripted.append(Response.json(payload, status=status))

    def reset(self) -> None:
        """Forget pinned rates, removed currencies, scripted answers and pending faults."""
        with self._lock:
            self._pinned.clear()
            self._removed.clear()
            self._scripted.clear()
        self.faults.clear()

    def rate(self, currency: str, on: date | None = None) -> str | None:
        """The rate text served for a currency, latest (on=None) or on a day; None if absent."""
        code = currency.upper()
        with self._lock:
            if code in self._removed:
                return None
            pinned = self._pinned.get((on, code))
        if pinned is not None:
            return pinned
        if code not in BASE_RATES:
            return None
        return _drifted(code, on or self._clock().date())

    def environment(self, base_url: str) -> dict[str, str]:
        """The settings that point Pipeline Pulse at this simulator."""
        return {"CURRENCYFREAKS_BASE_URL": base_url, "CURRENCYFREAKS_API_KEY": self.api_key}

    # --- Fault bodies ----------------------------------------------------------------------------

    def render_fault(self, fault: Fault, request: Request) -> Response:
        if fault is Fault.UNAUTHORIZED:
            return _error(401, "Invalid API key. Please provide a valid API key.")
        if fault in (Fault.RATE_LIMITED, Fault.RATE_LIMITED_NO_RETRY_AFTER):
            response = _error(429, "Monthly request quota exceeded. Upgrade your plan.")
            if fault is Fault.RATE_LIMITED:
                response.headers["Retry-After"] = str(self.faults.retry_after_seconds)
            return response
        if fault is Fault.SERVER_ERROR:
            return _error(500, "Internal server error")
        if fault is Fault.UNAVAILABLE:
            return _error(503, "Service temporarily unavailable")
        if fault is Fault.MALFORMED:
            body = b'{"date": "2024-01-02 10:00:00+00", "base": "USD", "rates": {"SGD": "1.34'
            return Response(200, body, {"Content-Type": "application/json"})
        return super().render_fault(fault, request)

    # --- Endpoints -----------------------------------------------------------------------------

    def latest(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        now = self._clock().astimezone(UTC).replace(second=0, microsecond=0)
        return self._rates(request, None, now)

    def historical(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        text = request.arg("date")
        if not text:
            return _error(400, "The date parameter is required (YYYY-MM-DD).")
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return _error(400, f"Invalid date {text!r}: use YYYY-MM-DD.")
        if day > self._clock().astimezone(UTC).date():
            return _error(400, "Historical rates are not available for future dates.")
        if day < HISTORY_STARTS:
            return _error(404, f"No historical data before {HISTORY_STARTS.isoformat()}.")
        return self._rates(request, day, datetime.combine(day, datetime.min.time(), UTC))

    def supported_currencies(self, request: Request) -> Response:
        with self._lock:
            removed = set(self._removed)
        currencies = {
            code: {
                "currencyCode": code,
                "currencyName": name,
                "countryCode": code[:2],
                "countryName": name,
                "status": "AVAILABLE",
                "availableFrom": HISTORY_STARTS.isoformat(),
                "availableUntil": "Now",
                "icon": f"https://currencyfreaks.com/photos/flags/{code.lower()}.png",
            }
            for code, (_, name) in BASE_RATES.items()
            if code not in removed
        }
        return Response.json({"supportedCurrenciesMap": currencies})

    def _refuse(self, request: Request) -> Response | None:
        if request.arg("apikey") != self.api_key:
            return _error(401, "Invalid API key. Please provide a valid API key.")
        if (request.arg("base") or "USD").upper() != "USD":
            return _error(403, "Changing the base currency requires a paid plan.")
        with self._lock:
            return self._scripted.popleft() if self._scripted else None

    def _rates(self, request: Request, on: date | None, as_of: datetime) -> Response:
        symbols = request.arg("symbols")
        with self._lock:
            pinned = {code for (day, code) in self._pinned if day == on}
        known = sorted(set(BASE_RATES) | pinned)
        wanted = [s.strip().upper() for s in symbols.split(",")] if symbols else known
        rates = {}
        for code in wanted:
            value = self.rate(code, on)
            if value is not None:
                rates[code] = value
        return Response.json({"date": as_of.strftime(DATE_FORMAT), "base": "USD", "rates": rates})


def _drifted(code: str, on: date) -> str:
    """The base rate moved by up to about ±2%, the same for the same day on every run."""
    base_text = BASE_RATES[code][0]
    if code == "USD":
        return base_text
    phase = sum(ord(letter) * (index + 1) for index, letter in enumerate(code))
    days = (on - _DRIFT_EPOCH).days
    drift = 0.015 * math.sin(days / 9 + phase) + 0.005 * math.sin(days / 2.3 + phase * 1.7)
    value = Decimal(base_text) * (1 + Decimal(f"{drift:.6f}"))
    return f"{value.quantize(Decimal('1E-8')).normalize():f}"
