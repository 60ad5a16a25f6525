"""The business's own rules: what makes a deal strategic, how health is recomputed."""

from pipeline_pulse.settings.environment import env

# A deal is strategic when its SGD amount reaches this, or its account is listed below.
STRATEGIC_AMOUNT_SGD = env.int("STRATEGIC_AMOUNT_SGD", default=1_000_000)
STRATEGIC_ACCOUNTS = env.list("STRATEGIC_ACCOUNTS", default=[])

# Deals read and written per statement when health is recomputed (and when a stage-mapping
# change re-places deals): bounds memory and statement size; a chunk commits on its own.
HEALTH_CHUNK_SIZE = env.int("HEALTH_CHUNK_SIZE", default=2000)
