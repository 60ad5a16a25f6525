"""The production settings, served with one extra page for the web benchmark's baseline."""

from pipeline_pulse.settings import *  # noqa: F403

ROOT_URLCONF = "bench.web_urls"
