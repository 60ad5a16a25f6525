"""Cache, channel layer and Celery broker: Redis when REDIS_URL is set, local fallbacks if not.

The fallbacks let a newcomer run everything, background work included, with nothing but
Python: a file cache and a file-system Celery broker, both shared between the processes
on one machine, and an in-process channel layer.
"""

from pathlib import Path
from typing import Any


def backing_services(*, redis_url: str, data_dir: Path) -> dict[str, Any]:
    """Settings for CACHES, CHANNEL_LAYERS and the Celery broker.

    Without Redis it also creates the broker's folders, which kombu expects to exist.
    """
    if redis_url:
        return {
            "CACHES": {
                "default": {
                    "BACKEND": "pipeline_pulse.redis_cache.ReusingRedisCache",
                    "LOCATION": redis_url,
                    "KEY_PREFIX": "pp",
                }
            },
            "CHANNEL_LAYERS": {
                "default": {
                    "BACKEND": "channels_redis.core.RedisChannelLayer",
                    "CONFIG": {"hosts": [redis_url]},
                }
            },
            "CELERY_BROKER_URL": redis_url,
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
