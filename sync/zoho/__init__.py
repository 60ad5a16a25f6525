"""The Zoho CRM client: the one door the rest of Pipeline Pulse uses to reach Zoho.

Import the client and its errors from here (`from sync.zoho import ZohoClient, ZohoError`) and
the typed records it returns from `sync.zoho.records`; the other modules are its internals.
"""

from sync.zoho.client import ZohoClient
from sync.zoho.errors import (
    ZohoApiError,
    ZohoAuthError,
    ZohoBadResponseError,
    ZohoDeletedListTruncatedError,
    ZohoError,
    ZohoNotConfiguredError,
    ZohoRateLimitError,
    ZohoTokenRefreshThrottledError,
    ZohoUnavailableError,
)

__all__ = [
    "ZohoApiError",
    "ZohoAuthError",
    "ZohoBadResponseError",
    "ZohoClient",
    "ZohoDeletedListTruncatedError",
    "ZohoError",
    "ZohoNotConfiguredError",
    "ZohoRateLimitError",
    "ZohoTokenRefreshThrottledError",
    "ZohoUnavailableError",
]
