"""`manage.py run_simulator`: serves the simulated APIs and says how to point at them."""

from __future__ import annotations

from io import StringIO

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError

from simulator.currencyfreaks import DEFAULT_API_KEY
from simulator.server import SimulatorServer
from simulator.zoho_oauth import OAuthClient


def _serve_one_request_then_interrupt(
    monkeypatch: pytest.MonkeyPatch, answers: list[requests.Response]
) -> None:
    """Instead of blocking: serve in the background, call the API once, then "press" Ctrl-C."""

    def serve(server: SimulatorServer) -> None:
        server.start()
        answers.append(
            requests.get(
                f"{server.url}/v2.0/rates/latest",
                params={"apikey": DEFAULT_API_KEY, "symbols": "SGD"},
                timeout=5,
            )
        )
        raise KeyboardInterrupt

    monkeypatch.setattr(SimulatorServer, "serve_forever", serve)


def test_prints_the_environment_and_serves_until_interrupted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers: list[requests.Response] = []
    _serve_one_request_then_interrupt(monkeypatch, answers)
    out = StringIO()

    call_command("run_simulator", "--port", "0", stdout=out)

    lines = out.getvalue().splitlines()
    url = lines[0].removeprefix("Simulated APIs on ")
    assert url.startswith("http://127.0.0.1:")
    assert f"CURRENCYFREAKS_BASE_URL={url}" in lines
    assert f"CURRENCYFREAKS_API_KEY={DEFAULT_API_KEY}" in lines
    assert lines[-1] == "Stopped."
    assert answers[0].status_code == 200
    assert set(answers[0].json()["rates"]) == {"SGD"}


def test_fail_rate_injects_faults(monkeypatch: pytest.MonkeyPatch) -> None:
    answers: list[requests.Response] = []
    _serve_one_request_then_interrupt(monkeypatch, answers)
    out = StringIO()

    call_command(
        "run_simulator", "--port", "0", "--fail-rate", "1", "--fault-seed", "1", stdout=out
    )

    assert "# currencyfreaks (100% of calls fail)" in out.getvalue()
    assert answers[0].status_code in (429, 500)  # or a timeout, which fault seed 1 rules out


def test_it_prints_the_zoho_settings_of_the_simulator(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("run_simulator", "--port", "0", "--deals", "5", "--no-serve")

    out = capsys.readouterr().out
    settings = dict(line.split("=", 1) for line in out.splitlines() if line.startswith("ZOHO_"))
    oauth = OAuthClient()
    assert settings["ZOHO_ACCOUNTS_URL"].startswith("http://127.0.0.1:")
    assert settings["ZOHO_API_DOMAIN"] == settings["ZOHO_ACCOUNTS_URL"]
    assert (settings["ZOHO_CLIENT_ID"], settings["ZOHO_CLIENT_SECRET"]) == (
        oauth.client_id,
        oauth.client_secret,
    )
    assert settings["ZOHO_REFRESH_TOKEN"] == oauth.refresh_token
    assert "5 deals (seed 7)" in out


def test_activity_is_off_unless_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("run_simulator", "--port", "0", "--deals", "5", "--no-serve")
    assert "edited every" not in capsys.readouterr().out
    call_command(
        "run_simulator",
        *("--port", "0", "--deals", "5", "--activity", "--activity-minutes", "2", "--no-serve"),
    )
    assert "5 deals (seed 7), deals edited every 2 minutes" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--deals", "-1", "cannot be negative"),
        ("--fail-rate", "1.5", "between 0 and 1"),
        ("--activity-minutes", "0", "more than 0"),
    ],
)
def test_it_refuses_impossible_options(option: str, value: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("run_simulator", "--port", "0", option, value, "--no-serve")


def test_a_busy_port_is_a_clear_error() -> None:
    with SimulatorServer([]) as busy:
        port = busy.url.rsplit(":", 1)[1]
        with pytest.raises(CommandError, match=f"Cannot listen on 127.0.0.1:{port}"):
            call_command("run_simulator", "--port", port)
