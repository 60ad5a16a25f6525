"""Counts that must hold under parallel requests: the API's rates and concurrent exports.

With Redis (REDIS_URL) every web process shares them and each check is one atomic step in
Redis: the rate is a moving window kept by the `limits` library (a Lua script that drops
expired hits, counts and records in one go), and an export slot is taken by a Lua script of
our own over a sorted set of leases. Two requests can never both take the last place.

Without Redis (a laptop on the file cache) the counts live in the process, behind a lock:
exact for the requests one process serves, but each process counts on its own, so N web
processes let a client through up to N times. The file cache cannot do better: it has no
atomic increment shared between processes.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from limits import RateLimitItemPerSecond, storage, strategies

# A slot whose holder died (a killed process) is given back after this long; an export that
# is still streaming by then renews its lease with every piece it sends.
EXPORT_LEASE_SECONDS = 300
# What a refused export is told to wait: a large export takes a few seconds to some tens.
EXPORT_RETRY_AFTER_SECONDS = 15

_lock = threading.RLock()  # reentrant: a slot operation holds it while it finds the slots
_state: dict[str, Any] = {}

# Drop lapsed leases, then take a slot if fewer than the limit are held: one step in Redis.
_TAKE_SLOT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


def _redis() -> redis.Redis | None:
    url: str = settings.REDIS_URL
    if not url:
        return None
    with _lock:
        client = _state.get(f"redis:{url}")
        if client is None:
            client = _state[f"redis:{url}"] = redis.Redis.from_url(url)
        return client


def _limiter() -> strategies.MovingWindowRateLimiter:
    url: str = settings.REDIS_URL or "memory://"
    with _lock:
        limiter = _state.get(f"limiter:{url}")
        if limiter is None:
            limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(url))
            _state[f"limiter:{url}"] = limiter
        return limiter


def rate_hit(*, key: str, requests: int, per_seconds: int) -> float | None:
    """Count one request against `requests` per `per_seconds` for `key`: None when it may
    go ahead, else the seconds until a place frees up (it is then not counted)."""
    limiter = _limiter()
    item = RateLimitItemPerSecond(requests, per_seconds, namespace="pp-rate")
    if limiter.hit(item, key):
        return None
    reset_at = limiter.get_window_stats(item, key).reset_time
    return max(reset_at - time.time(), 1.0)


@dataclass
class _LocalSlots:
    held: dict[str, dict[str, float]]


def _local_slots() -> _LocalSlots:
    with _lock:
        slots = _state.get("slots")
        if slots is None:
            slots = _state["slots"] = _LocalSlots(held={})
        return slots


class SlotTaken(Exception):
    """Every slot is held; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"try again in {retry_after} seconds")
        self.retry_after = retry_after


class Slot:
    """A held place among `limit` for `key`; `renew()` keeps it while the work goes on."""

    def __init__(self, key: str) -> None:
        self.key, self.token = key, uuid.uuid4().hex

    def renew(self) -> None:
        expires = time.time() + EXPORT_LEASE_SECONDS
        client = _redis()
        if client is not None:
            client.zadd(self.key, {self.token: expires}, xx=True)
        else:
            with _lock:
                held = _local_slots().held.get(self.key, {})
                if self.token in held:
                    held[self.token] = expires

    def release(self) -> None:
        client = _redis()
        if client is not None:
            client.zrem(self.key, self.token)
        else:
            with _lock:
                _local_slots().held.get(self.key, {}).pop(self.token, None)


def slot_take(*, key: str, limit: int) -> Slot:
    """One of `limit` places for `key` (e.g. a login's exports), or SlotTaken."""
    slot = Slot(f"pp-slots:{key}")
    now = time.time()
    client = _redis()
    if client is not None:
        taken = client.eval(
            _TAKE_SLOT,
            1,
            slot.key,
            now,
            limit,
            now + EXPORT_LEASE_SECONDS,
            slot.token,
            EXPORT_LEASE_SECONDS,
        )
    else:
        with _lock:
            held = _local_slots().held.setdefault(slot.key, {})
            for token, expires in list(held.items()):
                if expires <= now:
                    del held[token]
            taken = len(held) < limit
            if taken:
                held[slot.token] = now + EXPORT_LEASE_SECONDS
    if not taken:
        raise SlotTaken(EXPORT_RETRY_AFTER_SECONDS)
    return slot


def rate_limits_reset() -> None:
    """Forget every count and slot (tests; the Redis counts go with a cache clear too)."""
    _limiter().storage.reset()
    client = _redis()
    if client is not None:
        for key in client.scan_iter(match="pp-slots:*"):
            client.delete(key)
    with _lock:
        _state.pop("slots", None)
