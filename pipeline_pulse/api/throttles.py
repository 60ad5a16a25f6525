"""The API's throttles: per login, and per client address for calls without a valid login.

DRF's own throttles read the history from the cache and write it back, so parallel requests
each read the same history and all get through. These count with one atomic step
(pipeline_pulse.web.rate_limits); the rates and cache keys stay DRF's (API_THROTTLE_USER and
API_THROTTLE_ANON).
"""

from __future__ import annotations

from typing import Any

from rest_framework import throttling

from pipeline_pulse.web.client_address import client_address
from pipeline_pulse.web.rate_limits import rate_hit


class _AtomicRate(throttling.SimpleRateThrottle):
    """Replaces SimpleRateThrottle's read-then-write with rate_hit()."""

    _wait: float = 0.0

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        requests, seconds = self.parse_rate(self.rate)
        if requests is None or seconds is None:
            return True
        wait = rate_hit(key=key, requests=requests, per_seconds=seconds)
        if wait is None:
            return True
        self._wait = wait
        return False

    def wait(self) -> float:
        return self._wait

    def get_ident(self, request: Any) -> str:
        return client_address(request)


class AnonRateThrottle(_AtomicRate, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_AtomicRate, throttling.UserRateThrottle):
    pass
