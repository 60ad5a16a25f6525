"""System checks: the write-back settings make sense before the first conflict needs them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from opportunities.merge import STRATEGIES, parse_field_strategies


@register()
def conflict_settings_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    if settings.ZOHO_CONFLICT_STRATEGY not in STRATEGIES:
        errors.append(
            Error(
                f"ZOHO_CONFLICT_STRATEGY {settings.ZOHO_CONFLICT_STRATEGY!r} is not a strategy",
                hint=f"Use one of {', '.join(sorted(STRATEGIES))}.",
                id="sync.E001",
            )
        )
    try:
        parse_field_strategies(settings.ZOHO_CONFLICT_STRATEGY_FIELDS)
    except ValueError as exc:
        errors.append(Error(f"ZOHO_CONFLICT_STRATEGY_FIELDS: {exc}", id="sync.E002"))
    if not 0 <= settings.ZOHO_CONFLICT_MANUAL_AMOUNT_CHANGE_PERCENT <= 100:
        errors.append(
            Error(
                "ZOHO_CONFLICT_MANUAL_AMOUNT_CHANGE_PERCENT must be from 0 to 100", id="sync.E003"
            )
        )
    return errors
