"""Cache, Celery broker and Channels layer: Redis when REDIS_URL is set, local fallbacks if not
(settings/backing_services.py)."""

from pipeline_pulse.settings.backing_services import backing_services
from pipeline_pulse.settings.environment import DATA_DIR, env

REDIS_URL = env("REDIS_URL", default="")
_services = backing_services(
    redis_url=REDIS_URL,
    data_dir=DATA_DIR,
    # Each in a Redis database of its own; by default REDIS_URL's database + 1 and + 2.
    broker_url=env("CELERY_BROKER_URL", default=""),
    channels_url=env("CHANNELS_REDIS_URL", default=""),
)
CACHES = _services["CACHES"]
CHANNEL_LAYERS = _services["CHANNEL_LAYERS"]
CELERY_BROKER_URL = _services["CELERY_BROKER_URL"]
CELERY_BROKER_TRANSPORT_OPTIONS = _services["CELERY_BROKER_TRANSPORT_OPTIONS"]
