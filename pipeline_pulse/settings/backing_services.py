"""Cache, channel layer and Celery broker: Redis when REDIS_URL is set, local fallbacks if not.

The three never share a Redis database: clearing the cache (FLUSHDB) must not empty the task
queue. REDIS_URL's database n holds the cache, n + 1 the broker and n + 2 the Channels layer,
unless CELERY_BROKER_URL or CHANNELS_REDIS_URL name others.

The fallbacks let a newcomer run everything, background work included, with nothing but
Python: a file cache and a file-system Celery broker, both shared between the processes
on one machine, and an in-process channel layer.
"""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured


def redis_database(url: str, *, offset: int) -> str:
    """`url` with its database number moved by `offset` (redis://host:6379/0 -> .../1)."""
    parts = urlsplit(url)
    path = parts.path.strip("/") or "0"
    if not path.isascii() or not path.isdigit():
        raise ImproperlyConfigured(f"REDIS_URL's database must be a number, not {path!r}")
    return urlunsplit(parts._replace(path=f"/{int(path) + offset}"))


def backing_services(
    *, redis_url: str, data_dir: Path, broker_url: str = "", channels_url: str = ""
) -> dict[str, Any]:
    """Settings for CACHES, CHANNEL_LAYERS and the Celery broker.

    Without Redis it also creates the broker's folders, which kombu expects to exist.
    """
    if redis_url:
        broker_url = broker_url or redis_database(redis_url, offset=1)
        channels_url = channels_url or redis_database(redis_url, offset=2)
        if len({redis_url, broker_url, channels_url}) < 3:
            raise ImproperlyConfigured(
                "REDIS_URL, CELERY_BROKER_URL and CHANNELS_REDIS_URL must name three different "
                "Redis databases: a cache clear empties its whole database"
            )
        return {
            "CACHES": {
                "default": {
                    "BACKEND": "pipeline_pulse.storage.redis_cache.ReusingRedisCache",
                    "LOCATION": redis_url,
                    "KEY_PREFIX": "pp",
                }
            },
            "CHANNEL_LAYERS": {
                "default": {
                    "BACKEND": "channels_redis.core.RedisChannelLayer",
                    "CONFIG": {"hosts": [channels_url]},
                }
            },
            "CELERY_BROKER_URL": broker_url,
            "CELERY_BROKER_TRANSPORT_OPTIONS": {},
        }
    broker_folder = data_dir / "celery"
    for folder in (broker_folder / "queue", broker_folder / "control"):
        folder.mkdir(parents=True, exist_ok=True)
    return {
        # Shared by the web server and the worker, so a refresh in one process invalidates
        # what the other has cached.
        "CACHES": {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(data_dir / "cache"),
            }
        },
        # In-process only: live progress then reaches the browser by polling instead.
        "CHANNEL_LAYERS": {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
        # Kombu's file-system transport: beat and the worker exchange messages via a folder.
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_BROKER_TRANSPORT_OPTIONS": {
            "data_folder_in": str(broker_folder / "queue"),
            "data_folder_out": str(broker_folder / "queue"),
            "control_folder": str(broker_folder / "control"),
            "store_processed": False,
        },
    }
