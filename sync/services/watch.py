"""Zoho notifications: the channel subscribed and renewed before Zoho lets it lapse, and the
callbacks checked against it. The deals a callback names are fetched by
sync.services.pull.zoho_notified_fetch (a task, never the callback's request).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from pipeline_pulse.storage.advisory_locks import advisory_lock_try
from sync.models import ZohoWatchChannel
from sync.zoho.watch import CHANNEL_LIFETIME, WatchSubscription

if TYPE_CHECKING:
    from sync.zoho import ZohoClient

logger = logging.getLogger(__name__)

# Subscribing or renewing the channel, one worker at a time ("ZWCH" in ASCII).
WATCH_LOCK_KEY = 0x5A574348


class WatchNotConfigured(Exception):
    """ZOHO_NOTIFY_URL is not set: notifications are off."""


@dataclass(frozen=True)
class WatchOutcome:
    channel: ZohoWatchChannel
    # "subscribed", "renewed" or "current" (nothing to do yet)
    action: str


def notifications_enabled() -> bool:
    return bool(settings.ZOHO_NOTIFY_URL)


def renew_margin() -> timedelta:
    return timedelta(minutes=max(settings.ZOHO_NOTIFY_RENEW_MINUTES, 1))


def zoho_watch_due(channel: ZohoWatchChannel, *, now: datetime) -> bool:
    """Whether the channel needs subscribing or renewing now: none yet, pointing elsewhere,
    with another token or id than configured, or lapsing within the renewal margin."""
    if not channel.is_active(now) or channel.notify_url != settings.ZOHO_NOTIFY_URL:
        return True
    if settings.ZOHO_NOTIFY_TOKEN and channel.token != settings.ZOHO_NOTIFY_TOKEN:
        return True
    if settings.ZOHO_NOTIFY_CHANNEL_ID and channel.channel_id != settings.ZOHO_NOTIFY_CHANNEL_ID:
        return True
    assert channel.expires_at is not None  # noqa: S101  # is_active checked it  # nosec B101
    return channel.expires_at - now <= renew_margin()


def zoho_watch_ensure(*, force: bool = False, client: ZohoClient | None = None) -> WatchOutcome:
    """Subscribe to deal notifications, or renew the channel before it lapses (`force`: now,
    whatever is left of it). Raises WatchNotConfigured when notifications are off, and the
    client's ZohoError when Zoho refuses (recorded on the channel first).

    One worker at a time: workers started together would each read no channel, each open
    one of their own in Zoho and store only the last, and Zoho would call back on the
    others with tokens refused here, until they lapsed a day later.
    """
    if not notifications_enabled():
        raise WatchNotConfigured("Zoho notifications are off: ZOHO_NOTIFY_URL is not set.")
    with advisory_lock_try(WATCH_LOCK_KEY) as taken:
        if not taken:
            # Another worker is subscribing now (each does when it starts): its channel serves.
            return WatchOutcome(channel=ZohoWatchChannel.load(), action="current")
        return _watch_ensure(force=force, client=client)


def _watch_ensure(*, force: bool, client: ZohoClient | None) -> WatchOutcome:
    from sync.zoho import ZohoClient, ZohoError  # sync.models imports sync.zoho

    now = timezone.now()
    channel = ZohoWatchChannel.load()
    if not force and not zoho_watch_due(channel, now=now):
        return WatchOutcome(channel=channel, action="current")
    channel_id = settings.ZOHO_NOTIFY_CHANNEL_ID or channel.channel_id or _new_channel_id()
    token = settings.ZOHO_NOTIFY_TOKEN or channel.token or secrets.token_urlsafe(36)[:50]
    renew = (
        channel.is_active(now)
        and channel.channel_id == channel_id
        and channel.notify_url == settings.ZOHO_NOTIFY_URL
    )
    subscription = WatchSubscription(
        channel_id=channel_id,
        notify_url=settings.ZOHO_NOTIFY_URL,
        token=token,
        expires_at=now + CHANNEL_LIFETIME,
    )
    zoho = client if client is not None else ZohoClient.from_settings()
    # The new id and token are stored before Zoho hears of them: a callback carrying them,
    # arriving before Zoho's answer does, is then recognised. Refused, Zoho keeps the old.
    before = (channel.channel_id, channel.token)
    channel.channel_id, channel.token = channel_id, token
    channel.save(update_fields=["channel_id", "token", "updated_at"])
    try:
        result = zoho.watch_deals(subscription, renew=renew)
    except ZohoError as exc:
        if all(before):
            channel.channel_id, channel.token = before
        channel.last_error = str(exc)[:2000]
        channel.last_error_at = now
        channel.save(
            update_fields=["channel_id", "token", "last_error", "last_error_at", "updated_at"]
        )
        logger.warning("Zoho notification channel not %s: %s", "renewed" if renew else "set", exc)
        raise
    channel.notify_url = settings.ZOHO_NOTIFY_URL
    channel.subscribed_at = now
    # Zoho's own expiry when it says one (it shortens one it will not grant), else ours.
    channel.expires_at = result.expires_at or subscription.expires_at
    channel.last_error = ""
    channel.save()
    action = "renewed" if renew else "subscribed"
    logger.info("Zoho notification channel %s %s until %s", channel_id, action, channel.expires_at)
    return WatchOutcome(channel=channel, action=action)


def zoho_watch_callback_accept(*, channel_id: str, token: str) -> bool:
    """Whether a callback comes from our channel: its channel id and token, compared in
    constant time. Counted and stamped either way (the sync page shows both)."""
    channel = ZohoWatchChannel.load()
    expected_token = channel.token or settings.ZOHO_NOTIFY_TOKEN
    good = bool(channel.channel_id and expected_token)
    same_channel = hmac.compare_digest(channel_id.encode(), channel.channel_id.encode())
    same_token = hmac.compare_digest(token.encode(), expected_token.encode())
    accepted = good and same_channel and same_token
    with transaction.atomic():
        if accepted:
            ZohoWatchChannel.objects.filter(pk=channel.pk).update(
                callbacks=F("callbacks") + 1, last_callback_at=timezone.now()
            )
        else:
            ZohoWatchChannel.objects.filter(pk=channel.pk).update(refused=F("refused") + 1)
    return accepted


def _new_channel_id() -> str:
    """A channel id of our own: Zoho's channel ids are longs."""
    return str(10**15 + secrets.randbelow(9 * 10**15))
