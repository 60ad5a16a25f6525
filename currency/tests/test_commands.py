"""`manage.py fx_refresh`: a readable table on success, one line and exit 1 on failure."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import connections
from pytest_django import Settings

from currency.models import ExchangeRate, RateSource
from currency.tests.conftest import CurrencyFreaks
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from simulator.faults import Fault

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_the_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    # run_from_argv closes every connection when it ends, the test's transaction with it.
    monkeypatch.setattr(connections, "close_all", lambda: None)


def _run(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the command as `manage.py` would, returning exit code, stdout and stderr."""
    code = 0
    try:
        ManagementUtility(["manage.py", "fx_refresh", *args]).execute()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_refresh_prints_a_table_of_rates_and_ages(
    currencyfreaks: CurrencyFreaks, capsys: pytest.CaptureFixture[str]
) -> None:
    OpportunityFactory.create(currency="INR", amount=Decimal("100000.00"))

    code, out, err = _run(capsys=capsys)

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("Stored 6 rates as of 2026-03-10 12:30 +08")
    assert lines[0].endswith("1 deals' SGD amounts updated.")
    header = lines[1].split()
    assert header[:3] == ["currency", "units", "per"]
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert list(rows) == ["SGD", "USD", "EUR", "INR", "IDR", "JPY"]
    assert rows["INR"][1:3] == ["83.12", "0.01614653513"]
    assert rows["INR"][-2] == "api"
    assert rows["INR"][-1] in {"fresh", "stale", "expired"}  # relative to the machine clock
    assert Opportunity.objects.get().amount_sgd == Decimal("1614.65")


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault.UNAUTHORIZED, "CommandError: CurrencyFreaks rejected the API key (HTTP 401)"),
        (Fault.SERVER_ERROR, "CommandError: CurrencyFreaks answered HTTP 500 (3 attempts)"),
        (Fault.MALFORMED, "CommandError: CurrencyFreaks sent a body that is not JSON"),
    ],
)
def test_failures_exit_1_with_one_line_and_store_nothing(
    currencyfreaks: CurrencyFreaks,
    capsys: pytest.CaptureFixture[str],
    fault: Fault,
    message: str,
) -> None:
    currencyfreaks.api.faults.fail_next(*[fault] * 3)

    code, out, err = _run(capsys=capsys)

    assert code == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(message)
    assert "Traceback" not in err
    assert not ExchangeRate.objects.exists()


def test_a_response_without_rates_is_a_clear_failure(
    currencyfreaks: CurrencyFreaks, capsys: pytest.CaptureFixture[str]
) -> None:
    currencyfreaks.api.respond_next({"date": "2026-03-10 04:00:00+00", "base": "USD"})
    code, _, err = _run(capsys=capsys)
    assert (code, err.strip()) == (1, "CommandError: CurrencyFreaks response has no rates")


def test_no_key_points_at_the_seed_option(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.CURRENCYFREAKS_API_KEY = ""
    code, _, err = _run(capsys=capsys)
    assert code == 1
    assert "CURRENCYFREAKS_API_KEY is not set" in err
    assert "fx_refresh --seed" in err


def test_seed_then_status(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    settings.FX_CURRENCIES = ["SGD", "USD", "XOF"]

    code, out, _ = _run("--seed", capsys=capsys)

    assert code == 0
    assert out.splitlines()[0] == "Seed rates stored for: SGD, USD"
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert rows["SGD"][-2:] == ["seed", "expired"]  # bundled rates are old, and say so
    assert rows["XOF"][1:] == ["—", "—", "—", "—", "—", "NO", "RATE"]
    assert ExchangeRate.objects.filter(source=RateSource.SEED).count() == 2
    code, out, _ = _run("--status", capsys=capsys)
    assert code == 0
    assert out.splitlines()[0].split() == [
        "currency",
        "units",
        "per",
        "USD",
        "SGD",
        "per",
        "unit",
        "as",
        "of",
        "(SGT)",
        "age",
        "source",
        "state",
    ]


def test_backfill_of_a_past_day(
    currencyfreaks: CurrencyFreaks, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run("--date", "2026-02-02", capsys=capsys)
    assert code == 0
    assert out.startswith(
        "Stored 6 rates as of 2026-02-02 08:00 +08; 0 deals' SGD amounts updated."
    )
    assert ExchangeRate.objects.filter(as_of__date="2026-02-02").count() == 6


@pytest.mark.parametrize(
    ("value", "message"),
    [("02/02/2026", "--date must be a date like"), ("2999-01-01", "is in the future")],
)
def test_bad_dates_are_refused(
    currencyfreaks: CurrencyFreaks, capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    code, _, err = _run("--date", value, capsys=capsys)
    assert code == 1
    assert message in err
    assert currencyfreaks.rate_calls() == 0


def test_call_command_raises_for_callers(currencyfreaks: CurrencyFreaks) -> None:
    currencyfreaks.api.faults.fail_next(Fault.UNAUTHORIZED)
    with pytest.raises(CommandError, match="HTTP 401"):
        call_command("fx_refresh", stdout=StringIO())
