"""SGD conversion: amount * rate(SGD) / rate(currency), exact to the cent, from stored rates.

`sgd_converter()` reads the rates in effect once (from the cache, or two queries); `convert()`
then needs no query for open deals. Won deals pass `locked_on=closing_date` and get the rate
in force at the end of that Singapore day, looked up in the stored history, which a converter
loads once per currency it meets (plus one query for the overrides' history).
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from currency.models import ConversionProblem, ExchangeRate, RateOverride, RateSource
from pipeline_pulse.storage.transactions import now_and_on_commit

HOME_CURRENCY = "SGD"
# Versioned: a deploy that changes the cached shape must not read the old one.
EFFECTIVE_RATES_CACHE_KEY = "currency:effective-rates:v1"
OVERRIDES_CACHE_KEY = "currency:rate-overrides:v1"
RATES_VERSION_CACHE_KEY = "currency:rates-version:v1"
# The PostgreSQL advisory lock between changes of rates and sync pages ("RATE" in ASCII).
RATES_LOCK_KEY = 0x52415445
# Admins override a rate a few times a year: every override there is fits in one cache entry;
# past this many, the database answers instead.
OVERRIDES_KEPT = 200
# Of an override's author and remover a page shows the names: no password hash is cached.
_LOGIN_FIELDS_LEFT_OUT = [
    f"{login}__{field}"
    for login in ("created_by", "removed_by")
    for field in ("password", "email", "last_login", "date_joined")
]
FX_RATE_DECIMAL_PLACES = 12  # Opportunity.fx_rate
_AMOUNT_SGD_LIMIT = Decimal(10) ** 16  # Opportunity.amount_sgd: 18 digits, 2 of them decimals
SEED_NOTE = "Seed rate: bundled fallback, not a market rate"


@dataclass(frozen=True, slots=True)
class RatePoint:
    """One currency's rate as used: units per USD, valid at `as_of`, from `source`."""

    units_per_usd: Decimal
    as_of: datetime
    source: str  # a RateSource value


@dataclass(frozen=True)
class SgdConversion:
    # None when it cannot be converted (never 1:1 for an unknown currency).
    amount_sgd: Decimal | None
    rate: Decimal | None  # SGD per one unit of the deal currency = rate(SGD) / rate(currency)
    rate_as_of: datetime | None  # as-of time of the rate used
    rate_source: str  # RateSource value, or "" when no exchange rate was used
    note: str  # "" or a human reason/caveat
    problem: str = ""  # a ConversionProblem when amount_sgd is None


def _not_converted(problem: ConversionProblem, note: str) -> SgdConversion:
    return SgdConversion(None, None, None, "", note, problem)


# --- The rates in effect now, cached ----------------------------------------------------------


def effective_rates(*, use_cache: bool = True) -> dict[str, RatePoint]:
    """The rate in effect per currency: an active override, else the newest API rate, else seed."""
    if use_cache:
        cached = cache.get(EFFECTIVE_RATES_CACHE_KEY)
        if cached is not None:
            return dict(cached)
    rates = _load_effective_rates()
    if use_cache:
        cache.set(EFFECTIVE_RATES_CACHE_KEY, rates, timeout=settings.FX_REFRESH_HOURS * 3600)
    return rates


def _load_effective_rates() -> dict[str, RatePoint]:
    newest: dict[tuple[str, str], RatePoint] = {}
    for row in (
        ExchangeRate.objects.market()
        .latest_per_currency_and_source()
        .only("currency", "units_per_usd", "as_of", "source")
    ):
        newest[row.currency, row.source] = RatePoint(row.units_per_usd, row.as_of, row.source)
    rates: dict[str, RatePoint] = {}
    for (currency, source), point in newest.items():
        if source == RateSource.API or currency not in rates:
            rates[currency] = point
    for override in RateOverride.objects.active().only("currency", "units_per_usd", "created_at"):
        rates[override.currency] = RatePoint(
            override.units_per_usd, override.created_at, RateSource.MANUAL
        )
    return rates


def effective_rates_invalidate() -> None:
    """Rates change in this transaction: forget the cached rates (and overrides) now, and again
    at commit so no process keeps pre-commit ones.

    First it waits for every transaction converting with the rates before (a sync page, see
    rates_in_effect_version) and makes new ones wait for this commit, then gives the rates a
    new version: a sync page after the commit sees it and converts with the new rates, and
    this transaction's re-conversion sees every page committed before it.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RATES_LOCK_KEY])
    cache.set(RATES_VERSION_CACHE_KEY, uuid.uuid4().hex, timeout=None)
    keys = [EFFECTIVE_RATES_CACHE_KEY, OVERRIDES_CACHE_KEY]
    now_and_on_commit(lambda: cache.delete_many(keys))


def rates_in_effect_version() -> str:
    """The version of the rates in effect, for a transaction that converts amounts and must not
    mix rates with a change committed meanwhile (a sync page): call it first in the
    transaction, and read the rates again (`sgd_converter(use_cache=False)`) when it differs
    from the last one seen. Until the transaction ends no change of rates can commit, and a
    change already under way commits before this returns."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [RATES_LOCK_KEY])
    version: str | None = cache.get(RATES_VERSION_CACHE_KEY)
    if version is None:  # never set, or evicted: any new value differs from what was used
        cache.add(RATES_VERSION_CACHE_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(RATES_VERSION_CACHE_KEY, "")
    return str(version)


def rate_overrides_newest(currencies: Collection[str], *, limit: int) -> list[RateOverride]:
    """The newest Admin overrides of these currencies' rates, in force or removed, newest
    first, with who set and removed them: from the cache, kept with the rates in effect."""
    kept: list[RateOverride] | None = cache.get(OVERRIDES_CACHE_KEY)
    if kept is None:
        kept = list(_overrides_newest_first()[: OVERRIDES_KEPT + 1])
        cache.set(OVERRIDES_CACHE_KEY, kept, timeout=settings.FX_REFRESH_HOURS * 3600)
    if len(kept) > OVERRIDES_KEPT:  # more than are kept: the list may be cut short
        return list(_overrides_newest_first().filter(currency__in=currencies)[:limit])
    return [override for override in kept if override.currency in currencies][:limit]


def _overrides_newest_first() -> QuerySet[RateOverride]:
    return (
        RateOverride.objects.select_related("created_by", "removed_by")
        .defer(*_LOGIN_FIELDS_LEFT_OUT)
        .order_by("-created_at", "-id")
    )


# --- History, for won deals ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _OverrideSpan:
    start: datetime
    end: datetime | None  # None: still active
    point: RatePoint


class _Timeline:
    """One source's stored rates for one currency, oldest first, searchable by time."""

    def __init__(self, points: list[RatePoint]) -> None:
        self.points = points
        self.times = [point.as_of for point in points]

    def before(self, moment: datetime) -> RatePoint | None:
        index = bisect.bisect_left(self.times, moment)
        return self.points[index - 1] if index else None

    def first(self) -> RatePoint | None:
        return self.points[0] if self.points else None


class SgdConverter:
    """Converts amounts with the rates it was built with; see the module docstring."""

    def __init__(self, latest: Mapping[str, RatePoint]) -> None:
        self._latest = dict(latest)
        self._history: dict[str, tuple[_Timeline, _Timeline]] = {}
        self._overrides: dict[str, list[_OverrideSpan]] | None = None
        self._in_force_memo: dict[tuple[str, date], tuple[RatePoint, bool] | None] = {}
        # What-if factors: SGD per unit of a currency times this (latest rates only).
        self._moved: dict[str, Decimal] = {}

    def with_rate_moved(self, currency: str, percent: Decimal) -> SgdConverter:
        """A copy whose latest rate for `currency` (SGD per unit) is `percent` % higher (or
        lower, when negative): a what-if, exact as every conversion; nothing is stored.
        Rates locked to a closing date are not moved."""
        code = currency.strip().upper()
        if code == HOME_CURRENCY:
            raise ValueError("SGD's own rate cannot be moved against SGD")
        if percent <= -100:
            raise ValueError("a rate cannot fall by 100% or more")
        moved = SgdConverter(self._latest)
        moved._moved = {**self._moved, code: 1 + percent / 100}
        return moved

    def latest_rate(self, currency: str) -> RatePoint | None:
        """The rate in effect now for one currency (None: nothing known)."""
        return self._latest.get(currency.strip().upper())

    @property
    def latest_rates(self) -> dict[str, RatePoint]:
        return dict(self._latest)

    def convert(
        self, amount: Decimal | None, currency: str, *, locked_on: date | None = None
    ) -> SgdConversion:
        code = (currency or "").strip().upper()
        if amount is None:
            return _not_converted(ConversionProblem.NO_AMOUNT, "No amount to convert")
        if code == HOME_CURRENCY:
            # An identity, not an exchange: no rate is looked up, so none is cited.
            return SgdConversion(_exact_half_up((amount,), Decimal(1), 2), Decimal(1), None, "", "")
        if not code:
            return _not_converted(ConversionProblem.NO_CURRENCY, "No currency")
        if locked_on is None:
            home, foreign = self._latest.get(HOME_CURRENCY), self._latest.get(code)
            home_later = foreign_later = False
        else:
            home, home_later = self._in_force(HOME_CURRENCY, locked_on) or (None, False)
            foreign, foreign_later = self._in_force(code, locked_on) or (None, False)
        if foreign is None:
            return _not_converted(ConversionProblem.NO_RATE, f"No exchange rate for {code}")
        if home is None:
            return _not_converted(
                ConversionProblem.NO_RATE, f"No exchange rate for {HOME_CURRENCY}"
            )
        # 1 but for a what-if (with_rate_moved): an exact factor on SGD per unit.
        factor = self._moved.get(code, Decimal(1)) if locked_on is None else Decimal(1)
        rate = _exact_half_up(
            (home.units_per_usd, factor), foreign.units_per_usd, FX_RATE_DECIMAL_PLACES
        )
        if rate <= 0:
            return _not_converted(
                ConversionProblem.RATE_TOO_SMALL, f"Rate for {code} is too small to record"
            )
        amount_sgd = _exact_half_up((amount, home.units_per_usd, factor), foreign.units_per_usd, 2)
        if abs(amount_sgd) >= _AMOUNT_SGD_LIMIT:
            return _not_converted(ConversionProblem.TOO_LARGE, "SGD amount too large to record")
        sources = {home.source, foreign.source}
        source = next(
            s for s in (RateSource.SEED, RateSource.MANUAL, RateSource.API) if s in sources
        )
        notes = []
        if home_later or foreign_later:
            used_on = timezone.localdate(max(home.as_of, foreign.as_of))
            notes.append(f"Rate from after the closing date (rate of {used_on.isoformat()})")
        if source == RateSource.SEED:
            notes.append(SEED_NOTE)
        return SgdConversion(
            amount_sgd=amount_sgd,
            rate=rate,
            rate_as_of=min(home.as_of, foreign.as_of),
            rate_source=str(source),
            note="; ".join(notes),
        )

    def _in_force(self, currency: str, on: date) -> tuple[RatePoint, bool] | None:
        """The rate in force at the end of Singapore day `on`, and whether it is from later.

        Precedence: an override active then; the newest API rate before; the earliest API
        rate after (flagged); the same for seed; lastly the earliest later override.
        """
        key = (currency, on)
        if key not in self._in_force_memo:
            self._in_force_memo[key] = self._lookup_in_force(currency, on)
        return self._in_force_memo[key]

    def _lookup_in_force(self, currency: str, on: date) -> tuple[RatePoint, bool] | None:
        cutoff = datetime.combine(
            on + timedelta(days=1), time.min, tzinfo=timezone.get_default_timezone()
        )
        spans = self._override_spans().get(currency, [])
        for span in spans:
            if span.start < cutoff and (span.end is None or span.end >= cutoff):
                return span.point, False
        api, seed = self._timelines(currency)
        for timeline in (api, seed):
            before = timeline.before(cutoff)
            if before is not None:
                return before, False
            first = timeline.first()
            if first is not None:
                return first, True
        later = [span.point for span in spans if span.start >= cutoff]
        return (later[0], True) if later else None

    def _timelines(self, currency: str) -> tuple[_Timeline, _Timeline]:
        if currency not in self._history:
            api: list[RatePoint] = []
            seed: list[RatePoint] = []
            rows = (
                ExchangeRate.objects.market()
                .filter(currency=currency)
                .order_by("as_of", "id")
                .values_list("units_per_usd", "as_of", "source")
            )
            for units, as_of, source in rows:
                (api if source == RateSource.API else seed).append(RatePoint(units, as_of, source))
            self._history[currency] = (_Timeline(api), _Timeline(seed))
        return self._history[currency]

    def _override_spans(self) -> dict[str, list[_OverrideSpan]]:
        if self._overrides is None:
            self._overrides = {}
            rows = RateOverride.objects.order_by("created_at", "id").values_list(
                "currency", "units_per_usd", "created_at", "removed_at"
            )
            for currency, units, created_at, removed_at in rows:
                point = RatePoint(units, created_at, RateSource.MANUAL)
                self._overrides.setdefault(currency, []).append(
                    _OverrideSpan(created_at, removed_at, point)
                )
        return self._overrides


def sgd_converter(*, use_cache: bool = True) -> SgdConverter:
    """A converter with the rates in effect now (cache-backed; `use_cache=False` reads the DB)."""
    return SgdConverter(effective_rates(use_cache=use_cache))


def _exact_half_up(factors: Iterable[Decimal], divisor: Decimal, places: int) -> Decimal:
    """(product of factors) / divisor, rounded half-up to `places` decimals, exactly.

    Done on the integers behind the Decimals: Decimal arithmetic rounds to its context's 28
    digits first, and a 36-digit rate times an 18-digit amount can exceed that.
    """
    top, bottom = 1, 1
    for factor in factors:
        factor_top, factor_bottom = factor.as_integer_ratio()
        top, bottom = top * factor_top, bottom * factor_bottom
    divisor_top, divisor_bottom = divisor.as_integer_ratio()
    if divisor_top == 0:
        raise ZeroDivisionError("exchange rate of zero")
    top, bottom = top * divisor_bottom * 10**places, bottom * divisor_top
    negative = (top < 0) != (bottom < 0)
    top, bottom = abs(top), abs(bottom)
    # Half-up (away from zero on a tie): floor(q + 1/2) on the magnitude.
    units = (2 * top + bottom) // (2 * bottom)
    return Decimal(f"{'-' if negative and units else ''}{units}E-{places}")
