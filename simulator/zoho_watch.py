"""Zoho's Notification APIs, simulated: channels enabled, renewed, listed and disabled at
`/crm/v8/actions/watch`, and callbacks POSTed to each channel's notify URL when the org's
deals change (through any of the store's changes: API updates, the team's activity, test
hooks).

The request is checked as Zoho documents it: a `watch` list; per channel a numeric
`channel_id`, `events` such as `Deals.all` or `Deals.edit`, an http(s) `notify_url`, a
`token` of at most 50 characters, and a `channel_expiry` of at most one day ahead (later or
missing: one hour, as Zoho does). Callbacks go out from one background thread, in order,
with Zoho's body: server_time, query_params, module, resource_uri, ids, affected_fields,
operation (insert, update, delete), channel_id, token.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from simulator.clock import SimulatorClock
from simulator.dataset import zoho_time
from simulator.http import Request, Response
from simulator.zoho_params import zoho_json

MAX_EXPIRY = timedelta(days=1)
DEFAULT_EXPIRY = timedelta(hours=1)
MAX_TOKEN = 50
OPERATIONS = ("create", "edit", "delete")
EVENT_OF = {"insert": "create", "update": "edit", "delete": "delete"}
MODULES = ("Deals",)
RESOURCE_ID = "4876876000000002181"  # the Deals module's id in this org
CALLBACK_TIMEOUT_SECONDS = 10.0


@dataclass
class Channel:
    channel_id: str
    events: set[str]  # "Deals.create", ...
    notify_url: str
    token: str | None
    expires_at: datetime


@dataclass(frozen=True)
class Delivery:
    """One callback sent: where, what, and the answer's status (None: no answer)."""

    url: str
    body: dict[str, Any]
    status: int | None


@dataclass
class WatchBook:
    """The org's notification channels, and the thread that sends their callbacks."""

    clock: SimulatorClock
    base_url: str = "https://www.zohoapis.com"
    channels: dict[str, Channel] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    # Tests may pause delivery (callbacks "never" arrive) and send them again (twice).
    paused: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self._thread: threading.Thread | None = None

    # --- API ---------------------------------------------------------------------------------

    def enable(self, request: Request) -> Response:
        """POST: enable (or replace) channels."""
        return self._subscribe(request, replace=True)

    def update(self, request: Request) -> Response:
        """PATCH: update an existing channel's details (its expiry, URL, token, events)."""
        return self._subscribe(request, replace=False)

    def details(self, request: Request) -> Response:
        now = self.clock.now()
        with self._lock:
            live = [c for c in self.channels.values() if c.expires_at > now]
        if not live:
            return Response.empty(204)
        return zoho_json(
            {
                "watch": [self._describe(channel) for channel in live],
                "info": {"per_page": 200, "page": 1, "count": len(live), "more_records": False},
            }
        )

    def disable(self, request: Request) -> Response:
        ids = [i for i in (request.arg("channel_ids") or "").split(",") if i.strip()]
        if not ids:
            return _error(400, "REQUIRED_PARAM_MISSING", "channel_ids is missing", {})
        with self._lock:
            for channel_id in ids:
                self.channels.pop(channel_id.strip(), None)
        return zoho_json(
            {
                "watch": [
                    _success("Successfully un-subscribed from actions-watch", {"channel_id": i})
                    for i in ids
                ]
            }
        )

    def _subscribe(self, request: Request, *, replace: bool) -> Response:
        try:
            body = request.json()
        except ValueError:
            return _error(400, "INVALID_DATA", "body", {"expected_data_type": "jsonobject"})
        items = body.get("watch") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return _error(400, "MANDATORY_NOT_FOUND", "watch is missing", {"api_name": "watch"})
        answers: list[dict[str, Any]] = []
        now = self.clock.now()
        for item in items:
            parsed = self._channel(item, now)
            if isinstance(parsed, dict):
                answers.append(parsed)
                continue
            with self._lock:
                known = self.channels.get(parsed.channel_id)
                if not replace and (known is None or known.expires_at <= now):
                    answers.append(_refusal("NOT_SUBSCRIBED", "the channel is not subscribed", {}))
                    continue
                self.channels[parsed.channel_id] = parsed
            message = (
                "Successfully subscribed for actions-watch of the given module"
                if replace
                else "Successfully updated the subscribe details"
            )
            answers.append(_success(message, {"events": [self._event(parsed)]}))
        status = 200 if all(a["status"] == "success" for a in answers) else 400
        if replace and status == 200:
            status = 201
        return zoho_json({"watch": answers}, status)

    def _channel(self, item: object, now: datetime) -> Channel | dict[str, Any]:
        if not isinstance(item, dict):
            return _refusal("INVALID_DATA", "invalid data", {"expected_data_type": "jsonobject"})
        channel_id = item.get("channel_id")
        if channel_id is None:
            return _refusal("MANDATORY_NOT_FOUND", "required field not found", _api("channel_id"))
        text_id = str(channel_id)
        if isinstance(channel_id, bool) or not text_id.isdigit() or len(text_id) > 18:
            return _refusal("INVALID_DATA", "invalid data", _api("channel_id"))
        events = item.get("events")
        if not isinstance(events, list) or not events:
            return _refusal("MANDATORY_NOT_FOUND", "required field not found", _api("events"))
        watched: set[str] = set()
        for event in events:
            module, _, operation = str(event).partition(".")
            if module not in MODULES or operation not in (*OPERATIONS, "all"):
                return _refusal("INVALID_MODULE", "the module or operation is not valid", {})
            ops = OPERATIONS if operation == "all" else (operation,)
            watched.update(f"{module}.{op}" for op in ops)
        notify_url = item.get("notify_url")
        if not isinstance(notify_url, str) or not notify_url:
            return _refusal("MANDATORY_NOT_FOUND", "required field not found", _api("notify_url"))
        if urlsplit(notify_url).scheme not in ("http", "https") or not urlsplit(notify_url).netloc:
            return _refusal("INVALID_DATA", "invalid data", _api("notify_url"))
        token = item.get("token")
        if token is not None and (not isinstance(token, str) or len(token) > MAX_TOKEN):
            return _refusal("INVALID_DATA", "invalid data", {**_api("token"), "maximum_length": 50})
        expiry_text = item.get("channel_expiry")
        expires_at = now + DEFAULT_EXPIRY
        if expiry_text is not None:
            try:
                asked = datetime.fromisoformat(str(expiry_text))
            except ValueError:
                return _refusal("INVALID_DATA", "invalid data", _api("channel_expiry"))
            if asked.tzinfo is None or asked <= now:
                return _refusal("INVALID_DATA", "invalid data", _api("channel_expiry"))
            if asked - now <= MAX_EXPIRY:
                expires_at = asked
        return Channel(text_id, watched, notify_url, token, expires_at)

    def _event(self, channel: Channel) -> dict[str, Any]:
        return {
            "channel_expiry": zoho_time(channel.expires_at),
            "resource_uri": f"{self.base_url}/crm/v8/Deals",
            "resource_id": RESOURCE_ID,
            "resource_name": "Deals",
            "channel_id": channel.channel_id,
        }

    def _describe(self, channel: Channel) -> dict[str, Any]:
        return {
            **self._event(channel),
            "notify_url": channel.notify_url,
            "events": sorted(channel.events),
            "token": channel.token,
            "notify_on_related_action": False,
            "return_affected_field_values": False,
            "fields": None,
        }

    # --- callbacks ---------------------------------------------------------------------------

    def deals_changed(self, operation: str, deal_ids: list[str]) -> None:
        """The store's listener: a callback to every live channel watching this change."""
        now = self.clock.now()
        event = f"Deals.{EVENT_OF[operation]}"
        with self._lock:
            targets = [
                c for c in self.channels.values() if c.expires_at > now and event in c.events
            ]
        for channel in targets:
            body = {
                "server_time": int(now.timestamp() * 1000),
                "query_params": {},
                "module": "Deals",
                "resource_uri": f"{self.base_url}/crm/v8/Deals",
                "ids": list(deal_ids),
                "affected_fields": [],
                "operation": operation,
                "channel_id": channel.channel_id,
                "token": channel.token,
            }
            self.send(channel.notify_url, body)

    def send(self, url: str, body: dict[str, Any]) -> None:
        """Queue a callback (tests call it to send one again)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._deliver_forever, name="zoho callbacks", daemon=True
                )
                self._thread.start()
        self._queue.put((url, body))

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until every queued callback has been answered (tests)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def _deliver_forever(self) -> None:
        while True:
            url, body = self._queue.get()
            try:
                status = None if self.paused else _post(url, body)
                with self._lock:
                    self.deliveries.append(Delivery(url, body, status))
            finally:
                self._queue.task_done()


def _post(url: str, body: dict[str, Any]) -> int | None:
    data = json.dumps(body, separators=(",", ":")).encode()
    request = urllib.request.Request(  # noqa: S310  # the notify URL a test or demo set
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=CALLBACK_TIMEOUT_SECONDS) as answer:  # noqa: S310  # nosec B310
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return None


def _api(name: str) -> dict[str, Any]:
    return {"api_name": name}


def _success(message: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"code": "SUCCESS", "status": "success", "message": message, "details": details}


def _refusal(code: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"code": code, "status": "error", "message": message, "details": details}


def _error(status: int, code: str, message: str, details: dict[str, Any]) -> Response:
    return zoho_json(
        {"code": code, "status": "error", "message": message, "details": details}, status
    )
