"""Zoho's notification channel (Notification APIs, `/crm/v8/actions/watch`) as typed values:
the subscription the client sends, Zoho's answer, and the callback Zoho posts to us.

Only the client (client.py) sends subscriptions; the public callback view parses callbacks
with `parse_notification`, so no other module reads Zoho's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sync.zoho.parsing import format_zoho_datetime

WATCH_PATH = "/crm/v8/actions/watch"
# Zoho keeps a channel at most one day from when it is enabled; asked for longer (or not at
# all) it keeps it one hour, so an hour under a day leaves room for the clocks to differ.
MAX_CHANNEL_LIFETIME = timedelta(days=1)
CHANNEL_LIFETIME = MAX_CHANNEL_LIFETIME - timedelta(hours=1)
MAX_TOKEN_LENGTH = 50  # Zoho's limit on the verification token
DEAL_EVENTS = ("Deals.create", "Deals.edit", "Deals.delete")
# The callback's `operation` for each kind of change (Zoho's words, and the events' words).
OPERATIONS = {
    "insert": "create",
    "create": "create",
    "update": "edit",
    "edit": "edit",
    "delete": "delete",
}
MAX_IDS_PER_CALLBACK = 10_000


@dataclass(frozen=True, slots=True)
class WatchSubscription:
    """What Pipeline Pulse asks Zoho to call back about."""

    channel_id: str  # digits: Zoho's channel_id is a long
    notify_url: str
    token: str
    expires_at: datetime
    events: tuple[str, ...] = DEAL_EVENTS

    def __post_init__(self) -> None:
        if not self.channel_id.isdigit() or len(self.channel_id) > 18:
            raise ValueError("a channel id is a number of at most 18 digits")
        if not self.token or len(self.token) > MAX_TOKEN_LENGTH:
            raise ValueError(f"a channel token has 1 to {MAX_TOKEN_LENGTH} characters")
        if not self.notify_url.startswith(("https://", "http://")):
            raise ValueError("the notify URL must be an http(s) URL")

    def as_json(self) -> dict[str, Any]:
        return {
            "watch": [
                {
                    "channel_id": int(self.channel_id),
                    "events": list(self.events),
                    "channel_expiry": format_zoho_datetime(self.expires_at),
                    "token": self.token,
                    "notify_url": self.notify_url,
                }
            ]
        }


@dataclass(frozen=True, slots=True)
class WatchResult:
    """Zoho's answer to a subscription: the channel and when Zoho will let it lapse."""

    channel_id: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class DealNotification:
    """One callback: which deals changed and how. It carries ids, never the records."""

    channel_id: str
    token: str
    module: str
    operation: str  # "create", "edit" or "delete"
    zoho_ids: tuple[str, ...]
    server_time: datetime | None


def parse_watch_answer(body: object) -> WatchResult | tuple[str, str]:
    """Zoho's answer to POST or PATCH actions/watch: the result, or (code, message) of the
    refusal Zoho wrapped in it."""
    items = body.get("watch") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items or not isinstance(items[0], dict):
        raise ValueError("the answer has no `watch` list")
    item = items[0]
    code = str(item.get("code") or "")
    if code != "SUCCESS":
        return code or "UNKNOWN", str(item.get("message") or "no message")
    raw_details = item.get("details")
    details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
    raw_events = details.get("events")
    events: list[Any] = raw_events if isinstance(raw_events, list) else []
    expiries: list[datetime] = []
    channel_id = str(details.get("channel_id") or "")
    for event in events:
        if not isinstance(event, dict):
            continue
        channel_id = channel_id or str(event.get("channel_id") or "")
        expiry = event.get("channel_expiry")
        if isinstance(expiry, str):
            try:
                moment = datetime.fromisoformat(expiry)
            except ValueError:
                continue
            if moment.tzinfo is not None:
                expiries.append(moment)
    return WatchResult(channel_id=channel_id, expires_at=min(expiries, default=None))


def parse_notification(body: object) -> DealNotification:
    """A callback's JSON body; ValueError says what is wrong with it."""
    if not isinstance(body, dict):
        raise ValueError("the body is not a JSON object")
    channel_id = body.get("channel_id")
    if isinstance(channel_id, int) and not isinstance(channel_id, bool):
        channel_id = str(channel_id)
    if not isinstance(channel_id, str) or not channel_id:
        raise ValueError("channel_id is missing")
    token = body.get("token")
    if token is not None and not isinstance(token, str):
        raise ValueError("token is not a string")
    operation = OPERATIONS.get(str(body.get("operation") or "").lower())
    if operation is None:
        raise ValueError("operation is not insert, update or delete")
    ids = body.get("ids")
    if not isinstance(ids, list) or len(ids) > MAX_IDS_PER_CALLBACK:
        raise ValueError("ids is not a list of record ids")
    zoho_ids: list[str] = []
    for value in ids:
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(text, str) or not text.isdigit() or len(text) > 32:
            raise ValueError("ids holds something that is not a record id")
        zoho_ids.append(text)
    module = body.get("module")
    return DealNotification(
        channel_id=channel_id,
        token=token or "",  # none: an empty token, which the channel check refuses
        module=module if isinstance(module, str) else "",
        operation=operation,
        zoho_ids=tuple(dict.fromkeys(zoho_ids)),
        server_time=_server_time(body.get("server_time")),
    )


def _server_time(value: object) -> datetime | None:
    """Zoho's `server_time`: milliseconds since the epoch."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
