"""The client's address: one answer for the login lockout, the API throttles and /metrics.

Directly connected, the client is the connection's peer (REMOTE_ADDR). Behind the proxy that
TRUST_X_FORWARDED_PROTO names, the peer is the proxy, and the client is the entry the proxy
appended to X-Forwarded-For: the right-most one (one entry per trusted proxy, counted from
the right). Entries left of it are whatever the client sent and are never believed. Nor is
REMOTE_ADDR behind a proxy when the header is there: a web server that rewrites it from the
header (uvicorn's --proxy-headers with FORWARDED_ALLOW_IPS=*) takes the left-most entry,
which the client chose.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _normalised(value: str) -> str | None:
    """An IP address as one canonical string (IPv4-mapped IPv6 as IPv4), or None."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)


def client_address(request: HttpRequest) -> str:
    """The address the request came from, as far as this deployment can know it.

    Behind `settings.TRUSTED_PROXY_COUNT` proxies, each appending one X-Forwarded-For entry:
    that many entries from the right. A request with fewer entries did not come through
    every proxy (a health check on the host, say), and its connection's address is the
    answer. An empty string when no address can be read (a Unix socket).
    """
    proxies: int = settings.TRUSTED_PROXY_COUNT
    if proxies:
        entries = [
            entry
            for entry in request.headers.get("X-Forwarded-For", "").split(",")
            if entry.strip()
        ]
        if len(entries) >= proxies:
            appended = _normalised(entries[-proxies])
            if appended is not None:
                return appended
    return _normalised(request.META.get("REMOTE_ADDR", "")) or ""
