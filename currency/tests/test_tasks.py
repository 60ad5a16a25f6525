"""The scheduled refresh task: stores rates, seeds without a key, retries only what may pass."""

from __future__ import annotations

import logging

import pytest
from pytest_django import Settings

from currency.models import ExchangeRate, RateSource
from currency.tasks import fx_rates_refresh_task
from currency.tests.conftest import CurrencyFreaks
from simulator.faults import Fault

pytestmark = pytest.mark.django_db


def test_the_task_is_scheduled_every_fx_refresh_hours(settings: Settings) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["currency-fx-rates-refresh"]
    assert entry["task"] == fx_rates_refresh_task.name == "currency.tasks.fx_rates_refresh_task"
    assert entry["schedule"].total_seconds() == settings.FX_REFRESH_HOURS * 3600


def test_the_task_refreshes(currencyfreaks: CurrencyFreaks) -> None:
    result = fx_rates_refresh_task.apply()
    assert result.successful()
    assert ExchangeRate.objects.filter(source=RateSource.API).count() == 6


def test_without_a_key_it_seeds_and_warns(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CURRENCYFREAKS_API_KEY = ""
    with caplog.at_level(logging.WARNING, logger="currency.tasks"):
        result = fx_rates_refresh_task.apply()
    assert result.successful()
    assert ExchangeRate.objects.filter(source=RateSource.SEED).exists()
    assert "CURRENCYFREAKS_API_KEY is not set" in caplog.text


def test_an_outage_is_retried_by_the_task(currencyfreaks: CurrencyFreaks) -> None:
    # Three failed attempts inside the client, then the task's first retry succeeds.
    currencyfreaks.api.faults.fail_next(*[Fault.SERVER_ERROR] * 3)
    result = fx_rates_refresh_task.apply()
    assert result.successful()
    assert currencyfreaks.rate_calls() == 4
    assert ExchangeRate.objects.exists()


def test_a_bad_key_is_not_retried_and_fails_visibly(currencyfreaks: CurrencyFreaks) -> None:
    currencyfreaks.api.faults.fail_next(Fault.UNAUTHORIZED)
    result = fx_rates_refresh_task.apply()
    assert result.failed()
    assert "HTTP 401" in str(result.result)
    assert currencyfreaks.rate_calls() == 1
    assert not ExchangeRate.objects.exists()
