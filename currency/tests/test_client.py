"""The CurrencyFreaks client against the simulator over HTTP: parsing, retries, refusals."""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from random import Random
from typing import Any

import pytest

from currency.client import (
    CurrencyFreaksAuthError,
    CurrencyFreaksBadResponse,
    CurrencyFreaksClient,
    CurrencyFreaksError,
    CurrencyFreaksNotConfigured,
    CurrencyFreaksPlanError,
    CurrencyFreaksQuotaError,
    CurrencyFreaksRequestError,
    CurrencyFreaksUnavailable,
)
from currency.tests.conftest import SIMULATOR_NOW, CurrencyFreaks
from simulator.faults import Fault


def _client(**overrides: Any) -> CurrencyFreaksClient:
    return CurrencyFreaksClient.from_settings(**overrides)


def test_latest_rates_are_exact_decimals_from_the_strings(currencyfreaks: CurrencyFreaks) -> None:
    rates = _client().latest_rates()

    assert rates.as_of == SIMULATOR_NOW.replace(second=0)
    assert rates.as_of.tzinfo is not None
    assert rates.units_per_usd["SGD"] == Decimal("1.3421")
    assert rates.units_per_usd["INR"] == Decimal("83.12")
    assert rates.units_per_usd["USD"] == Decimal(1)
    assert all(isinstance(value, Decimal) for value in rates.units_per_usd.values())
    assert set(rates.units_per_usd) == {"SGD", "USD", "EUR", "INR", "IDR", "JPY"}
    assert rates.missing == ()


def test_only_the_configured_symbols_are_asked_for_and_kept(
    currencyfreaks: CurrencyFreaks,
) -> None:
    rates = _client(currencies=["SGD", "PHP"]).latest_rates()
    # USD is the base: one per dollar even when not asked for.
    assert set(rates.units_per_usd) == {"SGD", "PHP"}


def test_currencies_missing_from_the_answer_are_reported(currencyfreaks: CurrencyFreaks) -> None:
    currencyfreaks.api.remove_currency("JPY")
    rates = _client().latest_rates()
    assert "JPY" not in rates.units_per_usd
    assert rates.missing == ("JPY",)


def test_numbers_instead_of_strings_never_pass_through_float(
    currencyfreaks: CurrencyFreaks,
) -> None:
    currencyfreaks.api.respond_next(
        {"date": "2026-03-10 04:00:00+00", "base": "USD", "rates": {"SGD": 1.3421, "IDR": 15800}}
    )
    rates = _client().latest_rates()
    assert rates.units_per_usd["SGD"] == Decimal("1.3421")
    assert rates.units_per_usd["IDR"] == Decimal(15800)


def test_more_decimals_than_stored_are_rounded_half_up(currencyfreaks: CurrencyFreaks) -> None:
    currencyfreaks.api.set_rate("EUR", "0.9278605451274349125")  # 19 decimals
    rates = _client().latest_rates()
    assert rates.units_per_usd["EUR"] == Decimal("0.927860545127434913")


def test_historical_rates_are_for_the_requested_day(currencyfreaks: CurrencyFreaks) -> None:
    client = _client()
    first = client.historical_rates(date(2025, 11, 3))
    second = client.historical_rates(date(2025, 11, 4))

    assert first.as_of == datetime(2025, 11, 3, tzinfo=UTC)
    assert first.units_per_usd != second.units_per_usd  # the market moved
    assert first.units_per_usd == client.historical_rates(date(2025, 11, 3)).units_per_usd


def test_a_historical_answer_for_another_day_is_rejected(currencyfreaks: CurrencyFreaks) -> None:
    currencyfreaks.api.respond_next(
        {"date": "2025-11-02 00:00:00+00", "base": "USD", "rates": {"SGD": "1.3"}}
    )
    with pytest.raises(CurrencyFreaksBadResponse, match="2025-11-02 instead of 2025-11-03"):
        _client().historical_rates(date(2025, 11, 3))


def test_a_day_without_history_is_a_clear_refusal(currencyfreaks: CurrencyFreaks) -> None:
    with pytest.raises(CurrencyFreaksRequestError, match="HTTP 404"):
        _client().historical_rates(date(1999, 12, 31))


def test_a_wrong_key_fails_at_once(currencyfreaks: CurrencyFreaks) -> None:
    with pytest.raises(CurrencyFreaksAuthError, match="rejected the API key") as caught:
        _client(api_key="wrong-key").latest_rates()
    assert "wrong-key" not in str(caught.value)
    assert currencyfreaks.rate_calls() == 1  # a bad key is not retried


def test_no_key_is_a_configuration_error(currencyfreaks: CurrencyFreaks) -> None:
    with pytest.raises(CurrencyFreaksNotConfigured, match="CURRENCYFREAKS_API_KEY is not set"):
        _client(api_key="")
    assert currencyfreaks.rate_calls() == 0


def test_a_plan_refusal_is_not_retried(currencyfreaks: CurrencyFreaks) -> None:
    currencyfreaks.api.respond_next({"success": False}, status=403)
    with pytest.raises(CurrencyFreaksPlanError, match="HTTP 403"):
        _client().latest_rates()
    assert currencyfreaks.rate_calls() == 1


def test_501_is_a_refusal_no_retry_will_change(currencyfreaks: CurrencyFreaks) -> None:
    currencyfreaks.api.respond_next({"message": "not implemented"}, status=501)
    with pytest.raises(CurrencyFreaksRequestError, match="HTTP 501"):
        _client().latest_rates()
    assert currencyfreaks.rate_calls() == 1


def test_rate_limits_are_retried_honouring_retry_after(
    currencyfreaks: CurrencyFreaks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CurrencyFreaksClient, "MAX_BACKOFF_SECONDS", 10.0)
    currencyfreaks.api.faults.retry_after_seconds = 7
    currencyfreaks.api.faults.fail_next(Fault.RATE_LIMITED, Fault.RATE_LIMITED_NO_RETRY_AFTER)
    slept: list[float] = []

    rates = CurrencyFreaksClient.from_settings(sleep=slept.append).latest_rates()

    assert rates.units_per_usd["SGD"] == Decimal("1.3421")
    assert currencyfreaks.rate_calls() == 3
    # Retry-After exactly, then exponential back-off with full jitter (second wait: up to 2x).
    assert slept[0] == 7.0
    assert 0 <= slept[1] <= 2 * CurrencyFreaksClient.BACKOFF_SECONDS


def test_a_retry_after_longer_than_the_longest_wait_fails_at_once(
    currencyfreaks: CurrencyFreaks,
) -> None:
    # The quota resets on CurrencyFreaks' schedule: waiting less than asked only spends calls.
    currencyfreaks.api.faults.retry_after_seconds = 3600
    currencyfreaks.api.faults.fail_next(Fault.RATE_LIMITED)
    slept: list[float] = []

    with pytest.raises(CurrencyFreaksQuotaError, match="asks to wait 3600 s") as caught:
        CurrencyFreaksClient.from_settings(sleep=slept.append).latest_rates()

    assert "quota is used up" in str(caught.value)
    assert currencyfreaks.rate_calls() == 1
    assert slept == []


class _Highest(Random):
    """Jitter that always draws the top of its range, so the exponential steps show."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_backoff_grows_exponentially_with_full_jitter(
    currencyfreaks: CurrencyFreaks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CurrencyFreaksClient, "MAX_ATTEMPTS", 4)
    monkeypatch.setattr(CurrencyFreaksClient, "BACKOFF_SECONDS", 1.0)
    monkeypatch.setattr(CurrencyFreaksClient, "MAX_BACKOFF_SECONDS", 60.0)
    outage = (Fault.SERVER_ERROR, Fault.UNAVAILABLE, Fault.SERVER_ERROR)
    highest: list[float] = []
    jittered: list[float] = []

    currencyfreaks.api.faults.fail_next(*outage)
    CurrencyFreaksClient.from_settings(sleep=highest.append, rng=_Highest()).latest_rates()
    currencyfreaks.api.faults.fail_next(*outage)
    CurrencyFreaksClient.from_settings(sleep=jittered.append, rng=Random(4)).latest_rates()

    assert highest == [1.0, 2.0, 4.0]  # the ceilings: base 1, 2, 4
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(jittered, highest, strict=True))
    assert jittered != highest


@pytest.mark.parametrize(
    ("faults", "error", "message"),
    [
        ((Fault.RATE_LIMITED,) * 3, CurrencyFreaksQuotaError, "quota is used up"),
        ((Fault.SERVER_ERROR,) * 3, CurrencyFreaksUnavailable, "HTTP 500"),
        ((Fault.TIMEOUT,) * 3, CurrencyFreaksUnavailable, "did not answer within"),
        ((Fault.MALFORMED,), CurrencyFreaksBadResponse, "not JSON"),
        ((Fault.UNAUTHORIZED,), CurrencyFreaksAuthError, "HTTP 401"),
    ],
)
def test_failures_end_in_a_clear_error(
    currencyfreaks: CurrencyFreaks,
    faults: tuple[Fault, ...],
    error: type[CurrencyFreaksError],
    message: str,
) -> None:
    currencyfreaks.api.faults.fail_next(*faults)
    with pytest.raises(error, match=message) as caught:
        _client().latest_rates()
    assert "\n" not in str(caught.value)
    assert currencyfreaks.api.api_key not in str(caught.value)
    assert error.transient == (error in (CurrencyFreaksQuotaError, CurrencyFreaksUnavailable))


def test_an_unreachable_host_never_leaks_the_key(settings: Any, fast_retries: None) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CURRENCYFREAKS_BASE_URL = f"http://127.0.0.1:{port}"
    settings.CURRENCYFREAKS_API_KEY = "secret-key-123"

    with pytest.raises(CurrencyFreaksUnavailable, match="Could not reach CurrencyFreaks") as caught:
        _client().latest_rates()
    assert "secret-key-123" not in str(caught.value)


GOOD_DATE = "2026-03-10 04:00:00+00"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"date": GOOD_DATE, "base": "USD"}, "has no rates"),
        ({"date": GOOD_DATE, "base": "USD", "rates": {}}, "has no rates"),
        ({"date": GOOD_DATE, "base": "USD", "rates": ["SGD", "1.3"]}, "has no rates"),
        (["not", "an", "object"], "not an object"),
        ({"date": GOOD_DATE, "base": "EUR", "rates": {"SGD": "1.4"}}, "base 'EUR'"),
        ({"date": GOOD_DATE, "rates": {"SGD": "0"}}, "not a positive number"),
        ({"date": GOOD_DATE, "rates": {"SGD": "-1.34"}}, "not a positive number"),
        ({"date": GOOD_DATE, "rates": {"SGD": "abc"}}, "not a number"),
        ({"date": GOOD_DATE, "rates": {"SGD": ""}}, "not a number"),
        ({"date": GOOD_DATE, "rates": {"SGD": "NaN"}}, "not a positive number"),
        ({"date": GOOD_DATE, "rates": {"SGD": "Infinity"}}, "not a positive number"),
        ({"date": GOOD_DATE, "rates": {"SGD": None}}, "not a number"),
        ({"date": GOOD_DATE, "rates": {"SGD": True}}, "not a number"),
        ({"date": GOOD_DATE, "rates": {"SGD": "1e-30"}}, "implausibly small"),
        ({"date": GOOD_DATE, "rates": {"SGD": "1.34", "XAU": "-1"}}, "XAU"),
        ({"date": GOOD_DATE, "rates": {"XAU": "0.0004"}}, "none of the requested"),
        ({"base": "USD", "rates": {"SGD": "1.34"}}, "has no date"),
        ({"date": "2023-02-30 13:26:00+00", "rates": {"SGD": "1.34"}}, "bad date"),
        ({"date": "yesterday", "rates": {"SGD": "1.34"}}, "bad date"),
        ({"date": 1700000000, "rates": {"SGD": "1.34"}}, "has no date"),
        ({"date": "2023-03-21 13:26:00", "rates": {"SGD": "1.34"}}, "no UTC offset"),
        ({"date": "2099-01-01 00:00:00+00", "rates": {"SGD": "1.34"}}, "in the future"),
    ],
)
def test_malformed_answers_are_rejected_whole(
    currencyfreaks: CurrencyFreaks, payload: Any, message: str
) -> None:
    currencyfreaks.api.respond_next(payload)
    with pytest.raises(CurrencyFreaksBadResponse, match=message):
        _client().latest_rates()
    assert currencyfreaks.rate_calls() == 1  # a bad answer is not retried


def test_the_documented_date_forms_are_accepted(currencyfreaks: CurrencyFreaks) -> None:
    expected = datetime(2026, 3, 9, 13, 26, tzinfo=UTC)
    for text in ("2026-03-09 13:26:00+00", "2026-03-09T21:26:00+08:00", "2026-03-09T13:26:00Z"):
        currencyfreaks.api.respond_next({"date": text, "base": "USD", "rates": {"SGD": "1.3"}})
        assert _client().latest_rates().as_of == expected
    currencyfreaks.api.respond_next({"date": "2026-03-09", "rates": {"SGD": "1.3"}})
    assert _client().latest_rates().as_of == datetime(2026, 3, 9, tzinfo=UTC)


def test_a_slightly_early_clock_is_tolerated(currencyfreaks: CurrencyFreaks) -> None:
    ahead = (datetime.now(UTC) + timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S+00")
    currencyfreaks.api.respond_next({"date": ahead, "rates": {"SGD": "1.3"}})
    assert _client().latest_rates().units_per_usd["SGD"] == Decimal("1.3")
