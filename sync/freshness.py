"""How fresh the data on screen is: the last successful sync and the age of the FX rates.

Every page's header shows it (sync.context_processors), and a small fragment keeps it
current (sync.views.freshness). Cheap by design: what the header needs (the newest
successful and the running run, the oldest rate in effect, the currencies without one) is
one cache entry, forgotten when a run is saved or the rates change (sync.apps); how long
ago each was is worked out per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from currency.conversion import HOME_CURRENCY, effective_rates
from currency.staleness import Staleness, rate_staleness
from pipeline_pulse.storage.transactions import now_and_on_commit
from sync.models import SyncRun

# Past this many missed schedules the header turns amber; after a day without a successful
# sync, red: every figure on screen may be out of date.
SYNC_STALE_INTERVALS = 3
SYNC_EXPIRED_AFTER = timedelta(hours=24)
HEADER_CACHE_KEY = "sync:freshness-header:v1"
# Every save of a run and every change of rates forgets the kept entry at once; the limit
# bounds what a raw UPDATE (a shell, a fix by hand) can leave on screen.
HEADER_CACHE_SECONDS = 30


@dataclass(frozen=True, slots=True)
class Freshness:
    last_success: SyncRun | None
    running: SyncRun | None
    sync_state: str  # fresh, stale, expired (never synced counts as expired)
    fx_as_of: datetime | None  # the oldest rate in effect among the configured currencies
    # (SGD's own included: every conversion divides by it)
    fx_state: str  # a currency.staleness.Staleness value
    fx_missing: tuple[str, ...]  # configured currencies with no rate at all

    @property
    def last_success_id(self) -> int:
        return self.last_success.pk if self.last_success else 0


def sync_state(last_success: SyncRun | None, *, now: datetime) -> str:
    if last_success is None or last_success.finished_at is None:
        return "expired"
    age = now - last_success.finished_at
    if age > SYNC_EXPIRED_AFTER:
        return "expired"
    if age > timedelta(minutes=settings.ZOHO_SYNC_INTERVAL_MINUTES * SYNC_STALE_INTERVALS):
        return "stale"
    return "fresh"


def freshness_changed() -> None:
    """A run was saved (or the rates changed): forget the kept header now, and again at
    commit (no process keeps what it read before the commit)."""
    now_and_on_commit(lambda: cache.delete(HEADER_CACHE_KEY))


@dataclass(frozen=True, slots=True)
class _HeaderFacts:
    """What the header shows, before "how long ago": kept in the cache as one entry."""

    last_success: SyncRun | None
    running: SyncRun | None
    fx_as_of: datetime | None
    fx_missing: tuple[str, ...]


def _header_facts() -> _HeaderFacts:
    facts: _HeaderFacts | None = cache.get(HEADER_CACHE_KEY)
    if facts is None:
        rates = effective_rates()
        configured = rated_currencies(settings.FX_CURRENCIES)
        as_ofs = [rates[code].as_of for code in configured if code in rates]
        facts = _HeaderFacts(
            last_success=SyncRun.objects.latest_succeeded(),
            running=SyncRun.objects.running().first(),
            fx_as_of=min(as_ofs) if as_ofs else None,
            fx_missing=tuple(code for code in configured if code not in rates),
        )
        cache.set(HEADER_CACHE_KEY, facts, HEADER_CACHE_SECONDS)
    return facts


def rated_currencies(configured: list[str]) -> list[str]:
    """The configured currencies whose rates the SGD amounts depend on: every one but SGD,
    and SGD's own rate against the dollar, which every conversion uses (amount times
    rate(SGD) / rate(currency)); only an org priced in SGD alone needs no rate at all."""
    others = [code for code in configured if code != HOME_CURRENCY]
    return [HOME_CURRENCY, *others] if others else []


def data_freshness(*, now: datetime | None = None) -> Freshness:
    now = now or timezone.now()
    facts = _header_facts()
    oldest = facts.fx_as_of
    return Freshness(
        last_success=facts.last_success,
        running=facts.running,
        sync_state=sync_state(facts.last_success, now=now),
        fx_as_of=oldest,
        fx_state=rate_staleness(oldest, now=now).value if oldest else Staleness.MISSING.value,
        fx_missing=facts.fx_missing,
    )
