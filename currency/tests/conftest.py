"""Fixtures for the currency tests: a CurrencyFreaks simulator over real HTTP, fast retries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from pytest_django import Settings

from currency.client import CurrencyFreaksClient
from simulator.currencyfreaks import CurrencyFreaksSimulator
from simulator.server import SimulatorServer

# A fixed "now" for the simulator's latest rates, so their as-of is predictable.
SIMULATOR_NOW = datetime(2026, 3, 10, 4, 30, 15, tzinfo=UTC)
CURRENCIES = ["SGD", "USD", "EUR", "INR", "IDR", "JPY"]


@dataclass
class CurrencyFreaks:
    api: CurrencyFreaksSimulator
    server: SimulatorServer

    def rate_calls(self) -> int:
        """Answered rate calls (a stalled call from an earlier test may be logged late)."""
        return sum(1 for call in self.server.calls_to("/v2.0/rates") if call.status is not None)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries and timeouts in milliseconds, so failure tests take no time."""
    monkeypatch.setattr(CurrencyFreaksClient, "READ_TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr(CurrencyFreaksClient, "MAX_ATTEMPTS", 3)
    monkeypatch.setattr(CurrencyFreaksClient, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(CurrencyFreaksClient, "MAX_BACKOFF_SECONDS", 0.02)


@pytest.fixture(scope="session")
def _currencyfreaks_server() -> Iterator[CurrencyFreaks]:
    # One server for the session: stopping one costs half a second (its poll interval).
    api = CurrencyFreaksSimulator(clock=lambda: SIMULATOR_NOW)
    with SimulatorServer([api]) as server:
        yield CurrencyFreaks(api, server)


@pytest.fixture
def currencyfreaks(
    _currencyfreaks_server: CurrencyFreaks, settings: Settings, fast_retries: None
) -> CurrencyFreaks:
    """The simulator on an ephemeral port, reset, with the settings pointing at it."""
    api, server = _currencyfreaks_server.api, _currencyfreaks_server.server
    api.reset()
    server.reset_calls()
    api.faults.stall_seconds = 0.6  # past the 0.3 s read timeout of fast_retries
    api.faults.retry_after_seconds = 0
    for code, rate in {"SGD": "1.3421", "EUR": "0.92", "INR": "83.12", "IDR": "15800"}.items():
        api.set_rate(code, rate)
    settings.CURRENCYFREAKS_BASE_URL = server.url
    settings.CURRENCYFREAKS_API_KEY = api.api_key
    settings.FX_CURRENCIES = CURRENCIES
    return _currencyfreaks_server
