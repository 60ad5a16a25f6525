"""The CurrencyFreaks simulator speaks the documented wire format, refusals and faults."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from simulator.currencyfreaks import BASE_RATES, DEFAULT_API_KEY, CurrencyFreaksSimulator
from simulator.faults import Fault
from simulator.server import SimulatorServer

NOW = datetime(2026, 3, 10, 4, 30, 15, tzinfo=UTC)
DOCUMENTED_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+00$")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CurrencyFreaksSimulator, SimulatorServer]]:
    api = CurrencyFreaksSimulator(clock=lambda: NOW)
    with SimulatorServer([api]) as server:
        yield api, server


@pytest.fixture
def simulator(
    served: tuple[CurrencyFreaksSimulator, SimulatorServer],
) -> tuple[CurrencyFreaksSimulator, SimulatorServer]:
    served[0].reset()
    served[0].faults.stall_seconds = 0.5
    return served


def _get(server: SimulatorServer, path: str, **params: str) -> requests.Response:
    return requests.get(f"{server.url}{path}", params=params, timeout=5)


def _latest(server: SimulatorServer, **params: str) -> requests.Response:
    return _get(server, "/v2.0/rates/latest", **{"apikey": DEFAULT_API_KEY, **params})


def test_latest_has_the_documented_shape(
    simulator: tuple[CurrencyFreaksSimulator, SimulatorServer],
) -> None:
    _, server = simulator
    body = _latest(server).json()

    assert set(body) == {"date", "base", "rates"}
    assert body["base"] == "USD"
    assert DOCUMENTED_DATE.match(body["date"])
    assert body["date"] == "2026-03-10 04:30:00+00"
    assert set(body["rates"]) == set(BASE_RATES)
    assert all(isinstance(value, str) for value in body["rates"].values())
    assert body["rates"]["USD"] == "1.0"


def test_rates_are_realistic(simulator: tuple[CurrencyFreaksSimulator, SimulatorServer]) -> None:
    _, server = simulator
    rates = {code: Decimal(value) for code, value in _latest(server).json()["rates"].items()}
    expected = {"SGD": 1.34, "INR": 83, "PHP": 56, "IDR": 15800, "VND": 24500, "JPY": 150}
    for code, around in expected.items():
        assert abs(rates[code] / Decimal(str(around)) - 1) < Decimal("0.03"), code


def test_symbols_are_honoured(simulator: tuple[CurrencyFreaksSimulator, SimulatorServer]) -> None:
    _, server = simulator
    body = _latest(server, symbols="SGD,inr,XXX").json()
    assert set(body["rates"]) == {"SGD", "INR"}


@pytest.mark.parametrize("params", [{}, {"apikey": "wrong"}])
def test_a_missing_or_wrong_key_is_refused(
    simulator: tuple[CurrencyFreaksSimulator, SimulatorServer], params: dict[str, str]
) -> None:
    _, server = simulator
    for path in ("/v2.0/rates/latest", "/v2.0/rates/historical"):
        response = _get(server, path, date="2026-01-05", **params)
        assert response.status_code == 401
        assert response.json()["success"] is False


def test_another_base_needs_a_paid_plan(
    simulator: tuple[CurrencyFreaksSimulator, SimulatorServer],
) -> None:
    _, server = simulator
    assert _latest(server, base="EUR").status_code == 403
    assert _latest(server, base="USD").status_code == 200


def test_history_drifts_deterministically_day_to_day(
    simulator: tuple[CurrencyFreaksSimulator, SimulatorServer],
) -> None:
    _, server = simulator

    def day(text: str) -> dict[str, Any]:
        body: dict[str, Any] = _get(
            server, "/v2.0/rates/historical", apikey=DEFAULT_API_KEY, date=text, symbols="SGD,INR"
        ).json()
        return body

    first, again, next_day = day("2025-06-01"), day("2025-06-01"), day("2025-06-02")
    assert first == again
    assert first["date"] == "2025-06-01 00:00:00+00"
    assert first["rates"] != next_day["rates"]
    for code in ("SGD", "INR"):
        change = Decimal(next_day["rates"][code]) / Decimal(first["rates"][code]) - 1
        assert abs(change) < Decimal("0.01"), code  # a small daily move


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),
        ({"date": "01/06/2025"}, 400),
        ({"date": "2026-03-11"}, 400),
        ({"date": "1999-12-31"}, 404),
    ],
)
def test_history_refuses_bad_dates(
    simulator: tuple[CurrencyFreaksSimulator, SimulatorServer], params: dict[str, str], status: int
) -> None:
    _, server = simulator
    response = _get(server, "/v2.0/rates/historical", apikey=DEFAULT_API_KEY, **params)
    assert response.status_code == status


def test_supported_currencies(simulator: tuple[CurrencyFreaksSimulator, SimulatorServer]) -> None:
    api, server = simulator
    api.remove_currency("THB")
    currencies = _get(server, "/v2.0/supported-currencies").json()["supportedCurrenciesMap"]
    assert "THB" not in currencies
    assert currencies["SGD"]["currencyCode"] == "SGD"
    assert currencies["SGD"]["status"] == "AVAILABLE"


def test_tests_can_pin_rates_remove_currencies_and_script_answers(
    simulator: tuple[CurrencyFreaksSimulator, SimulatorServer],
) -> None:
    api, server = simulator
    api.set_rate("SGD", "1.2345")
    api.set_rate("SGD", "1.1111", on=date(2025, 6, 1))
    api.remove_currency("INR")
    api.respond_next({"anything": True}, status=200)

    assert _latest(server).json() == {"anything": True}
    rates = _latest(server).json()["rates"]
    assert rates["SGD"] == "1.2345"
    assert "INR" not in rates
    history = _get(server, "/v2.0/rates/historical", apikey=DEFAULT_API_KEY, date="2025-06-01")
    assert history.json()["rates"]["SGD"] == "1.1111"


def test_faults_have_currencyfreaks_bodies(
    simulator: tuple[CurrencyFreaksSimulator, SimulatorServer],
) -> None:
    api, server = simulator
    api.faults.fail_next(
        Fault.UNAUTHORIZED, Fault.RATE_LIMITED, Fault.SERVER_ERROR, Fault.MALFORMED
    )

    unauthorized = _latest(server)
    assert (unauthorized.status_code, unauthorized.json()["error"]["status"]) == (401, 401)
    limited = _latest(server)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "1")
    assert "quota" in limited.json()["error"]["message"]
    assert _latest(server).status_code == 500
    malformed = _latest(server)
    assert malformed.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        malformed.json()
    assert _latest(server).status_code == 200


def test_a_timeout_fault_stalls(simulator: tuple[CurrencyFreaksSimulator, SimulatorServer]) -> None:
    api, server = simulator
    api.faults.fail_next(Fault.TIMEOUT)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(
            f"{server.url}/v2.0/rates/latest", params={"apikey": DEFAULT_API_KEY}, timeout=0.2
        )


def test_environment_points_at_the_simulator() -> None:
    api = CurrencyFreaksSimulator(api_key="k")
    assert api.environment("http://127.0.0.1:8090") == {
        "CURRENCYFREAKS_BASE_URL": "http://127.0.0.1:8090",
        "CURRENCYFREAKS_API_KEY": "k",
    }
