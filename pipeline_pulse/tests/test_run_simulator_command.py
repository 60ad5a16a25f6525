"""`manage.py run_simulator` prints settings that really point a client at the simulator."""

import pytest
from django.core.management import CommandError, call_command

from simulator.zoho_oauth import OAuthClient


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


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--deals", "-1", "cannot be negative"), ("--fail-rate", "1.5", "between 0 and 1")],
)
def test_it_refuses_impossible_options(option: str, value: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("run_simulator", "--port", "0", option, value, "--no-serve")
