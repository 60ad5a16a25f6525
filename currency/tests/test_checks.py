"""System checks catch currency settings that would make every refresh fail."""

from pytest_django import Settings

from currency.checks import currency_settings_check


def test_good_settings_pass(settings: Settings) -> None:
    settings.FX_CURRENCIES = ["SGD", "USD", "EUR"]
    settings.FX_REFRESH_HOURS = 6
    assert currency_settings_check() == []


def test_bad_codes_and_a_zero_interval_are_errors(settings: Settings) -> None:
    settings.FX_CURRENCIES = ["SGD", "USD", "EURO", "1NR"]
    settings.FX_REFRESH_HOURS = 0
    errors = currency_settings_check()
    assert [error.id for error in errors] == ["currency.E001", "currency.E002"]
    assert "EURO, 1NR" in errors[0].msg
