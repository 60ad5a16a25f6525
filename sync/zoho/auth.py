"""Zoho OAuth access tokens: minted from the refresh token, shared through the Django cache.

A refresh token mints at most 10 access tokens per 10 minutes, so every process (web, worker,
beat) reuses the one cached token until shortly before it expires.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from sync.zoho.errors import (
    ZohoAuthError,
    ZohoBadResponseError,
    ZohoTokenRefreshThrottledError,
    scrub,
)
from sync.zoho.http import Transport

logger = logging.getLogger(__name__)

# How long a process waits for another one that is already refreshing the token.
_LOCK_SECONDS = 30
_WAIT_FOR_OTHER_REFRESH_SECONDS = 10.0
_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class OAuthCredentials:
    accounts_url: str
    client_id: str
    client_secret: str
    refresh_token: str

    def cache_key(self) -> str:
        # One token per data centre, client and refresh token; the digest keeps secrets out
        # of the cache's key space.
        material = "\n".join((self.accounts_url, self.client_id, self.refresh_token))
        return "zoho:access-token:" + hashlib.sha256(material.encode()).hexdigest()[:32]


class AccessTokens:
    """The current access token, refreshed ahead of expiry and when Zoho rejects it."""

    def __init__(
        self, *, credentials: OAuthCredentials, transport: Transport, refresh_margin: float
    ) -> None:
        self._credentials = credentials
        self._transport = transport
        self._refresh_margin = refresh_margin
        self._key = credentials.cache_key()
        self.refreshes = 0  # tokens this object minted: for tests and run statistics
        # Tokens are secrets too: the last few handed out, so messages can be scrubbed of them.
        self.recent: deque[str] = deque(maxlen=5)

    def current(self) -> str:
        token = self._cached() or self._refresh(rejected=None)
        return self._handed_out(token)

    def replace_rejected(self, rejected: str) -> str:
        """Zoho said INVALID_TOKEN: forget that token (unless already replaced) and get another."""
        cached = cache.get(self._key)
        if isinstance(cached, dict) and cached.get("access_token") == rejected:
            cache.delete(self._key)
        return self._handed_out(self._refresh(rejected=rejected))

    def _handed_out(self, token: str) -> str:
        if token not in self.recent:
            self.recent.append(token)
        return token

    def _cached(self, rejected: str | None = None) -> str | None:
        entry = cache.get(self._key)
        if not isinstance(entry, dict):
            return None
        token = entry.get("access_token")
        if not isinstance(token, str) or token == rejected:
            return None
        if time.time() >= float(entry.get("refresh_after", 0)):
            return None
        return token

    def _refresh(self, *, rejected: str | None) -> str:
        lock_key = self._key + ":refreshing"
        if not cache.add(lock_key, "1", timeout=_LOCK_SECONDS):
            # Another process is minting one right now: wait for its token instead of
            # spending one of the ten refreshes allowed per ten minutes.
            deadline = time.monotonic() + _WAIT_FOR_OTHER_REFRESH_SECONDS
            while time.monotonic() < deadline:
                time.sleep(_POLL_SECONDS)
                token = self._cached(rejected)
                if token is not None:
                    return token
        try:
            token = self._cached(rejected)
            if token is not None:
                return token
            return self._mint()
        finally:
            cache.delete(lock_key)

    def _mint(self) -> str:
        credentials = self._credentials
        response = self._transport.send(
            "POST",
            f"{credentials.accounts_url}/oauth/v2/token",
            operation="refresh access token",
            form={
                "grant_type": "refresh_token",
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret,
                "refresh_token": credentials.refresh_token,
            },
        )
        body = response.body
        if response.status == 200 and isinstance(body, dict) and body.get("access_token"):
            return self._store(body)
        raise self._refusal(response.status, body)

    def _store(self, body: dict[str, Any]) -> str:
        token = str(body["access_token"])
        # Older token responses carry the lifetime as expires_in_sec (expires_in in ms).
        lifetime_value = body.get("expires_in_sec", body.get("expires_in", 3600))
        try:
            lifetime = float(lifetime_value)
        except (TypeError, ValueError):
            raise ZohoBadResponseError(
                f"refresh access token: expires_in {lifetime_value!r} is not a number"
            ) from None
        margin = min(self._refresh_margin, lifetime / 2)
        cache.set(
            self._key,
            {"access_token": token, "refresh_after": time.time() + lifetime - margin},
            timeout=max(1, int(lifetime)),
        )
        self.refreshes += 1
        logger.info("Zoho access token refreshed; valid for %d s", lifetime)
        return token

    def _refusal(self, status: int, body: object) -> Exception:
        secrets = self._transport.secrets()
        error = body.get("error") if isinstance(body, dict) else None
        description = body.get("error_description", "") if isinstance(body, dict) else ""
        if error is None:
            return ZohoBadResponseError(
                f"refresh access token: Zoho answered HTTP {status} without an access token"
            )
        text = f"{error} {description}".lower()
        if status == 400 and ("access denied" in text or "too many" in text):
            return ZohoTokenRefreshThrottledError(
                "refresh access token: Zoho refused to mint another access token (too many "
                "refreshes: at most 10 per 10 minutes per refresh token); try again in a few "
                "minutes"
            )
        return ZohoAuthError(
            scrub(
                f"refresh access token: Zoho refused the credentials ({error}); check "
                "ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN, and that "
                "ZOHO_ACCOUNTS_URL is the data centre of the org",
                secrets,
            )
        )
