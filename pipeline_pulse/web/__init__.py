"""The web edge every app shares: page-or-fragment rendering, client addresses, rate limits,
cache headers, the lockout page and the health probes."""
