"""What can go wrong talking to Zoho CRM, as typed errors the sync can record and act on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class ZohoError(Exception):
    """Base of every Zoho client error. Messages never contain tokens or secrets."""


class ZohoNotConfiguredError(ZohoError):
    """A required ZOHO_* setting is empty; nothing was sent."""


class ZohoAuthError(ZohoError):
    """Zoho refused the credentials or the access token. Retrying will not help."""


class ZohoRateLimitError(ZohoError):
    """Zoho kept answering 429 (or refused to mint tokens) after every allowed attempt."""


class ZohoTokenRefreshThrottledError(ZohoRateLimitError):
    """Too many access tokens minted from the refresh token (at most 10 per 10 minutes)."""


class ZohoUnavailableError(ZohoError):
    """5xx answers, timeouts or connection errors until the attempts ran out."""


class ZohoBadResponseError(ZohoError):
    """Zoho answered with a body that is not the documented JSON."""


class ZohoDeletedListTruncatedError(ZohoError):
    """Zoho lists more deleted records than its pages reach, in an order that gives no way
    to ask for the rest: the list cannot be read to its end."""


class ZohoApiError(ZohoError):
    """Zoho answered with its error body: `{"code", "details", "message", "status"}`."""

    def __init__(
        self,
        *,
        http_status: int,
        code: str,
        message: str,
        details: Mapping[str, object] | None = None,
        operation: str = "",
    ) -> None:
        self.http_status = http_status
        self.code = code
        self.zoho_message = message
        self.details = dict(details or {})
        where = f"{operation}: " if operation else ""
        super().__init__(f"{where}Zoho answered {http_status} {code}: {message}")


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret in a message before it reaches a log or an exception."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text
