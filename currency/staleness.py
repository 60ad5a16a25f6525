"""How old a rate may be before the product says so: fresh, stale, expired (product.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

STALE_AFTER = timedelta(days=7)
EXPIRED_AFTER = timedelta(days=30)


class Staleness(models.TextChoices):
    FRESH = "fresh", "Fresh"  # at most 7 days old
    STALE = "stale", "Stale"  # more than 7 days: a warning
    EXPIRED = "expired", "Expired"  # more than 30 days
    MISSING = "missing", "No rate"


def rate_staleness(as_of: datetime | None, *, now: datetime | None = None) -> Staleness:
    """The state of a rate valid at `as_of`; exactly 7 days old is still fresh."""
    if as_of is None:
        return Staleness.MISSING
    age = (now or timezone.now()) - as_of
    if age > EXPIRED_AFTER:
        return Staleness.EXPIRED
    if age > STALE_AFTER:
        return Staleness.STALE
    return Staleness.FRESH
