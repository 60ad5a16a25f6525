"""The API's throttles: per login, and per client address for calls without a valid login."""

from __future__ import annotations

from typing import Any

from rest_framework import throttling

from pipeline_pulse.client_address import client_address


class AnonRateThrottle(throttling.AnonRateThrottle):
    def get_ident(self, request: Any) -> str:
        return client_address(request)


class UserRateThrottle(throttling.UserRateThrottle):
    def get_ident(self, request: Any) -> str:
        return client_address(request)
