"""The production settings, served with one extra page for the web benchmark's baseline."""

from pipeline_pulse.settings import *  # noqa: F403

ROOT_URLCONF = "bench.web_urls"

# The server shares REDIS_URL with whatever else runs here (the tests, a demo): its cached
# figures and rows must be its own.
CACHES["default"]["KEY_PREFIX"] = "bench-web"  # noqa: F405
