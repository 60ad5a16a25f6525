"""Writes about rates: refresh from CurrencyFreaks, seed, and overrides.

Every write that changes the rates in effect (or their history) announces it with
currency.signals.rates_changed, inside its transaction: the amounts converted with them are
another app's business. The conversion interface (`SgdConversion`, `SgdConverter`,
`sgd_converter`) lives in currency/conversion.py and is re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from currency.client import CurrencyFreaksClient, CurrencyFreaksError, UsdRates
from currency.codes import is_iso_code
from currency.conversion import (
    RatePoint,
    SgdConversion,
    SgdConverter,
    effective_rates_invalidate,
    sgd_converter,
)
from currency.models import (
    RATE_DECIMAL_PLACES,
    ExchangeRate,
    RateOverride,
    RateSource,
)
from currency.seed import SEED_AS_OF, SEED_UNITS_PER_USD
from currency.signals import RateChange, currencies_in_use_ask, rates_changed_send
from currency.staleness import Staleness, rate_staleness

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "CurrencyRateStatus",
    "RateRefresh",
    "RefreshAttempt",
    "SgdConversion",
    "SgdConverter",
    "currencies_accepted",
    "fx_currencies_wanted",
    "fx_rates_backfill",
    "fx_rates_last_refresh",
    "fx_rates_refresh",
    "fx_rates_seed",
    "fx_rates_status",
    "fx_rates_store",
    "fx_unknown_currencies",
    "rate_override_remove",
    "rate_override_set",
    "sgd_converter",
]

LAST_REFRESH_CACHE_KEY = "currency:last-refresh:v1"
UNKNOWN_CODES_CACHE_KEY = "currency:unknown-codes:v1"
UNKNOWN_FOR_SECONDS = 24 * 3600
_RATE_QUANTUM = Decimal(1).scaleb(-RATE_DECIMAL_PLACES)


@dataclass(frozen=True, slots=True)
class RateRefresh:
    """What one refresh (or backfill) stored and what it changed."""

    as_of: datetime
    stored: tuple[str, ...]  # currencies stored, sorted
    missing: tuple[str, ...]  # configured currencies the API did not return
    reconverted: int  # deals whose SGD amount or rate details changed (open and won)


@dataclass(frozen=True, slots=True)
class CurrencyRateStatus:
    """One currency's rate in effect, for the admin, the command and the dashboard."""

    currency: str
    units_per_usd: Decimal | None
    sgd_per_unit: Decimal | None
    as_of: datetime | None  # None when the currency has no rate
    source: str  # RateSource value, or "" when there is no rate
    staleness: Staleness


@dataclass(frozen=True, slots=True)
class RefreshAttempt:
    """How the last scheduled or manual refresh went, for the admin's current-rates page."""

    at: datetime
    succeeded: bool
    message: str  # the error, or what was stored


# --- Fetching and storing -------------------------------------------------------------------


def fx_currencies_wanted() -> list[str]:
    """What a refresh asks for: FX_CURRENCIES, then every other currency the data uses
    (currencies_in_use), except those CurrencyFreaks recently said it does not know."""
    configured = list(settings.FX_CURRENCIES)
    unknown = fx_unknown_currencies()
    in_use = sorted(code for code in currencies_in_use_ask() if is_iso_code(code))
    return configured + [code for code in in_use if code not in configured and code not in unknown]


def currencies_accepted() -> frozenset[str]:
    """The currencies a deal may be given here: the org's home currency, FX_CURRENCIES, and
    every currency its deals already use (Zoho accepted those, so the org has them switched
    on). Zoho refuses a currency the org has not added, and a rate is wanted for each."""
    return frozenset(
        {
            settings.ZOHO_HOME_CURRENCY.strip().upper(),
            *settings.FX_CURRENCIES,
            *(code for code in currencies_in_use_ask() if is_iso_code(code)),
        }
    )


def fx_unknown_currencies() -> set[str]:
    """Codes a recent refresh asked for and CurrencyFreaks did not answer."""
    unknown: set[str] | None = cache.get(UNKNOWN_CODES_CACHE_KEY)
    return set(unknown or ())


def fx_rates_refresh(*, client: CurrencyFreaksClient | None = None) -> RateRefresh:
    """Fetch the latest rates of every currency wanted, store them, and announce the change.

    Raises a CurrencyFreaksError (nothing stored) when the API fails or answers badly; the
    rates known before stay in effect. The HTTP call runs outside any transaction, so its
    retries never hold a database transaction open. Either way the outcome is remembered
    for fx_rates_last_refresh().
    """
    try:
        client = client or CurrencyFreaksClient.from_settings(currencies=fx_currencies_wanted())
        rates = client.latest_rates()
    except CurrencyFreaksError as exc:
        _remember_attempt(succeeded=False, message=str(exc))
        raise
    # Asked for and not answered: CurrencyFreaks does not know them. Not asked again for a
    # while; their deals stay unconverted and say "no exchange rate for XYZ".
    cache.set(UNKNOWN_CODES_CACHE_KEY, set(rates.missing), timeout=UNKNOWN_FOR_SECONDS)
    refresh = fx_rates_store(rates=rates)
    as_of = timezone.localtime(refresh.as_of).strftime("%Y-%m-%d %H:%M")
    _remember_attempt(succeeded=True, message=f"{len(refresh.stored)} rates as of {as_of}")
    return refresh


def fx_rates_last_refresh() -> RefreshAttempt | None:
    """The outcome of the last fx_rates_refresh() (None: none since the cache was cleared)."""
    attempt: RefreshAttempt | None = cache.get(LAST_REFRESH_CACHE_KEY)
    return attempt


def _remember_attempt(*, succeeded: bool, message: str) -> None:
    attempt = RefreshAttempt(at=timezone.now(), succeeded=succeeded, message=message)
    cache.set(LAST_REFRESH_CACHE_KEY, attempt, timeout=None)


def fx_rates_backfill(*, on: date, client: CurrencyFreaksClient | None = None) -> RateRefresh:
    """Store the rates of one past day, for the same currencies as a refresh; won deals whose
    closing-date rate it changes follow."""
    client = client or CurrencyFreaksClient.from_settings(currencies=fx_currencies_wanted())
    return fx_rates_store(rates=client.historical_rates(on))


@transaction.atomic
def fx_rates_store(*, rates: UsdRates) -> RateRefresh:
    """Keep one API answer in the history (a repeat of an as-of refreshes it) and apply it."""
    now = timezone.now()
    rows = [
        ExchangeRate(
            currency=currency,
            units_per_usd=units,
            as_of=rates.as_of,
            source=RateSource.API,
            fetched_at=now,
        )
        for currency, units in sorted(rates.units_per_usd.items())
    ]
    ExchangeRate.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["currency", "as_of", "source"],
        update_fields=["units_per_usd", "fetched_at"],
    )
    effective_rates_invalidate()
    # The rate history gains a point at as_of: won deals closing from that day on may lock to it.
    stored = frozenset(rates.units_per_usd)
    reconverted = rates_changed_send(
        RateChange(currencies=stored, effective_from=timezone.localdate(rates.as_of))
    )
    return RateRefresh(
        as_of=rates.as_of,
        stored=tuple(sorted(rates.units_per_usd)),
        missing=rates.missing,
        reconverted=reconverted,
    )


@transaction.atomic
def fx_rates_seed() -> tuple[str, ...]:
    """Store the bundled seed rates for configured currencies nothing at all is known about.

    Returns the currencies seeded. Safe to run again: a currency with any stored rate or an
    active override is left alone, so seed never hides real data.
    """
    known = set(ExchangeRate.objects.values_list("currency", flat=True).distinct())
    known |= set(RateOverride.objects.active().values_list("currency", flat=True))
    wanted = [
        code for code in settings.FX_CURRENCIES if code in SEED_UNITS_PER_USD and code not in known
    ]
    if not wanted:
        return ()
    now = timezone.now()
    ExchangeRate.objects.bulk_create(
        [
            ExchangeRate(
                currency=code,
                units_per_usd=SEED_UNITS_PER_USD[code],
                as_of=SEED_AS_OF,
                source=RateSource.SEED,
                fetched_at=now,
            )
            for code in wanted
        ],
        ignore_conflicts=True,
    )
    effective_rates_invalidate()
    rates_changed_send(RateChange(currencies=frozenset(wanted), effective_from=SEED_AS_OF.date()))
    return tuple(wanted)


# --- Overrides ----------------------------------------------------------------------------------


@transaction.atomic
def rate_override_set(
    *, currency: str, units_per_usd: Decimal, reason: str, user: User
) -> RateOverride:
    """Put an admin's rate in force now, replacing any active override of that currency.

    The override records the rate it replaced; it also enters the rate history as a manual
    rate. Open deals are re-converted at once.
    """
    code = _validated_code(currency)
    units = _validated_units(units_per_usd)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the rate is overridden."})
    previous = sgd_converter(use_cache=False).latest_rate(code)
    now = timezone.now()
    replaced = RateOverride.objects.select_for_update().active().filter(currency=code).first()
    if replaced is not None:
        replaced.removed_at = now
        replaced.removed_by = user
        replaced.removal_reason = f"Replaced by a new override: {reason}"
        replaced.save(update_fields=["removed_at", "removed_by", "removal_reason"])
    override = RateOverride.objects.create(
        currency=code,
        units_per_usd=units,
        reason=reason,
        created_at=now,
        created_by=user,
        previous_units_per_usd=previous.units_per_usd if previous else None,
        previous_source=previous.source if previous else "",
        previous_as_of=previous.as_of if previous else None,
    )
    ExchangeRate.objects.create(
        currency=code,
        units_per_usd=units,
        as_of=now,
        source=RateSource.MANUAL,
        override=override,
        fetched_at=now,
    )
    _apply_rate_change(code, since=now)
    return override


@transaction.atomic
def rate_override_remove(*, override: RateOverride, reason: str, user: User) -> RateOverride:
    """End an override now; the newest API (or seed) rate is in effect again."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"removal_reason": "Say why the override is removed."})
    locked = RateOverride.objects.select_for_update().get(pk=override.pk)
    if not locked.is_active:
        raise ValidationError("This override was already removed.")
    locked.removed_at = timezone.now()
    locked.removed_by = user
    locked.removal_reason = reason
    locked.save(update_fields=["removed_at", "removed_by", "removal_reason"])
    _apply_rate_change(locked.currency, since=locked.created_at)
    return locked


def _apply_rate_change(currency: str, *, since: datetime) -> None:
    """An override began or ended: its currency's rate changed now, and in the history from
    the day the override began (won deals closing since then were locked to it, or are now)."""
    effective_rates_invalidate()
    rates_changed_send(
        RateChange(currencies=frozenset({currency}), effective_from=timezone.localdate(since))
    )


def _validated_code(currency: str) -> str:
    code = currency.strip().upper()
    if not is_iso_code(code):
        raise ValidationError({"currency": "Use a three-letter ISO 4217 code, e.g. INR."})
    return code


def _validated_units(units_per_usd: Decimal) -> Decimal:
    try:
        units = Decimal(units_per_usd).quantize(_RATE_QUANTUM, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({"units_per_usd": "Enter a number."}) from None
    if not units.is_finite() or units <= 0:
        raise ValidationError({"units_per_usd": "A rate must be more than zero."})
    return units


# --- Status ------------------------------------------------------------------------------------


def fx_rates_status(*, now: datetime | None = None) -> list[CurrencyRateStatus]:
    """The rate in effect for every configured or overridden currency, with its staleness."""
    converter = sgd_converter()
    latest = converter.latest_rates
    currencies = list(settings.FX_CURRENCIES)
    currencies += sorted(
        code
        for code, point in latest.items()
        if point.source == RateSource.MANUAL and code not in currencies
    )
    statuses = []
    for code in currencies:
        point: RatePoint | None = latest.get(code)
        statuses.append(
            CurrencyRateStatus(
                currency=code,
                units_per_usd=point.units_per_usd if point else None,
                # SGD is 1 by identity; its units per USD still matter to every other rate.
                sgd_per_unit=converter.convert(Decimal(1), code).rate,
                as_of=point.as_of if point else None,
                source=point.source if point else "",
                staleness=rate_staleness(point.as_of if point else None, now=now),
            )
        )
    return statuses
