"""The Redis cache backend: Django's, with one Redis client and pool per process."""

from __future__ import annotations

import contextvars
import os
import threading
import uuid

import pytest

from pipeline_pulse.storage.redis_cache import ReusingRedisCache

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set REDIS_URL")


def _cache() -> ReusingRedisCache:
    # A prefix of its own: nothing another test (or process) keeps is touched.
    return ReusingRedisCache(REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})


def test_every_call_goes_through_the_same_client() -> None:
    cache = _cache()
    cache.set("figure", {"sgd": "12.30"}, 30)
    backend = cache._cache  # Django's client
    client = backend.get_client(write=True)
    assert cache.get("figure") == {"sgd": "12.30"}
    assert backend.get_client() is client
    assert backend.get_client(write=True) is client


def test_every_backend_object_shares_the_process_client() -> None:
    """Django builds a backend object per request context (asgiref Local): each request
    must not open a connection of its own."""
    first, second = _cache(), _cache()
    first.set("figure", 1, 30)
    second.set("figure", 2, 30)
    first_client = first._cache.get_client()
    assert second._cache.get_client() is first_client
    connections = first_client.connection_pool._created_connections
    for _ in range(20):
        _cache().get("figure")
    assert first_client.connection_pool._created_connections == connections


def test_each_request_context_gets_the_same_client() -> None:
    from django.core.cache import caches

    def client_in_a_fresh_context() -> object:
        return caches["default"]._cache.get_client()  # type: ignore[attr-defined]

    if "ReusingRedisCache" not in type(caches["default"]).__name__:
        pytest.skip("the configured cache is not Redis")
    clients = {id(contextvars.Context().run(client_in_a_fresh_context)) for _ in range(3)}
    assert len(clients) == 1


def test_it_behaves_as_djangos_backend() -> None:
    cache = _cache()
    assert cache.add("version", 1, None) is True
    assert cache.add("version", 5, None) is False
    assert cache.incr("version") == 2
    cache.set_many({"a": 1, "b": 2}, 30)
    assert cache.get_many(["a", "b", "c"]) == {"a": 1, "b": 2}
    assert cache.delete("a") is True
    assert cache.get("a", "gone") == "gone"
    with pytest.raises(ValueError, match="not found"):
        cache.incr("never-set")


def test_threads_share_the_client_safely() -> None:
    cache = _cache()
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            for step in range(50):
                cache.set(f"key-{number}", step, 30)
                assert cache.get(f"key-{number}") == step
        except BaseException as exc:  # noqa: BLE001  # reported below, with the thread's number
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert cache.get_many([f"key-{n}" for n in range(8)]) == {f"key-{n}": 49 for n in range(8)}
