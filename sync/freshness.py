"""How fresh the data on screen is: the last successful sync and the age of the FX rates.

Every page's header shows it (sync.context_processors), and a small fragment keeps it
current (sync.views.freshness). Cheap by design: two indexed queries on a small table and the
rates in effect, which currency keeps cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from currency.conversion import effective_rates
from currency.staleness import Staleness, rate_staleness
from sync.models import SyncRun

# Past this many missed schedules the header turns amber; after a day without a successful
# sync, red: every figure on screen may be out of date.
SYNC_STALE_INTERVALS = 3
SYNC_EXPIRED_AFTER = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Freshness:
    last_success: SyncRun | None
    running: SyncRun | None
    sync_state: str  # fresh, stale, expired (never synced counts as expired)
    fx_as_of: datetime | None  # the oldest rate in effect among the configured currencies
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


def data_freshness(*, now: datetime | None = None) -> Freshness:
    now = now or timezone.now()
    last_success = SyncRun.objects.latest_succeeded()
    rates = effective_rates()
    configured = [code for code in settings.FX_CURRENCIES if code != "SGD"]
    as_ofs = [rates[code].as_of for code in configured if code in rates]
    oldest = min(as_ofs) if as_ofs else None
    return Freshness(
        last_success=last_success,
        running=SyncRun.objects.running().first(),
        sync_state=sync_state(last_success, now=now),
        fx_as_of=oldest,
        fx_state=rate_staleness(oldest, now=now).value if oldest else Staleness.MISSING.value,
        fx_missing=tuple(code for code in configured if code not in rates),
    )
