"""Asking for rates before the schedule: when data arrives in a currency with no rate yet."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

from currency.conversion import sgd_converter
from currency.services import fx_unknown_currencies
from currency.tasks import fx_rates_refresh_task

REQUEST_CACHE_KEY = "currency:rates-requested:v1"
# The free plan allows about 1,000 calls a month: asked at most this often besides the schedule.
REQUEST_COOLDOWN_SECONDS = 15 * 60


def currencies_without_rate(currencies: Iterable[str]) -> list[str]:
    """Those of the codes with no rate in effect that CurrencyFreaks was not recently unable
    to give."""
    known = sgd_converter().latest_rates
    unknown = fx_unknown_currencies()
    wanted = {code.strip().upper() for code in currencies if code and code.strip()}
    return sorted(code for code in wanted if code not in known and code not in unknown)


def fx_rates_request(*, currencies: Iterable[str]) -> list[str]:
    """Queue a rate refresh for currencies that have no rate yet; the codes asked for.

    Nothing is queued when every code has a rate (or is one CurrencyFreaks does not know), or
    when a request was queued within the cooldown. The task runs after the caller commits.
    """
    missing = currencies_without_rate(currencies)
    if not missing or not cache.add(REQUEST_CACHE_KEY, missing, timeout=REQUEST_COOLDOWN_SECONDS):
        return []
    transaction.on_commit(fx_rates_refresh_task.delay)
    return missing
