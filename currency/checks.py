"""System checks: the currency settings make sense before anything is fetched with them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from currency.codes import is_iso_code


@register()
def currency_settings_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    bad_codes = [code for code in settings.FX_CURRENCIES if not is_iso_code(code)]
    if bad_codes:
        errors.append(
            Error(
                f"FX_CURRENCIES has codes that are not ISO 4217: {', '.join(bad_codes)}",
                hint="Use three-letter codes separated by commas, e.g. SGD,USD,EUR.",
                id="currency.E001",
            )
        )
    if settings.FX_REFRESH_HOURS < 1:
        errors.append(
            Error(
                "FX_REFRESH_HOURS must be at least 1",
                hint="The free CurrencyFreaks plan allows about 1,000 calls a month.",
                id="currency.E002",
            )
        )
    return errors
