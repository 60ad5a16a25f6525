"""Django's Redis cache backend, with one Redis client (and connection pool) per process.

Django's backend keeps its connection pools on the backend object, and Django keeps backend
objects per context (`django.core.cache.caches` is an asgiref Local): under the web server's
thread pool every request runs in a context of its own, so every request built a backend, a
pool and a TCP connection to Redis, and redis-py read its package metadata from disk to
introduce itself, on every page that touches the cache (docs/benchmarks.md). Django's client
also builds a `redis.Redis` for every cache call, whose table of response callbacks costs
more than a round trip to a local Redis.

Here the clients live in the module, one per server and pool options, shared by every
backend object and thread of the process: a Redis client over a connection pool is safe to
share between threads, and redis-py's pool starts afresh in a forked child.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()


class ReusingRedisCacheClient(RedisCacheClient):
    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's own choice of server for the call (the stubs do not declare it).
        index: int = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        shared = (self._servers[index], repr(sorted(self._pool_options.items())))  # type: ignore[attr-defined]
        client = _clients.get(shared)
        if client is None:
            with _clients_lock:  # two threads of a fresh process: one pool, not two
                client = _clients.get(shared)
                if client is None:
                    client = _clients[shared] = super().get_client(key, write=write)
        return client


class ReusingRedisCache(RedisCache):
    """settings CACHES BACKEND "pipeline_pulse.storage.redis_cache.ReusingRedisCache"."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
