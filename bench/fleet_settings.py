"""The production settings as the fleet benchmarks run them (bench.fleet)."""

from datetime import timedelta

from pipeline_pulse.settings import *  # noqa: F403

# The fleet shares the Redis server with whatever else runs here: its cache is its own.
CACHES["default"]["KEY_PREFIX"] = "bench-fleet"  # noqa: F405

# A queue of its own for each worker besides the shared one, so a benchmark can send a task
# to every worker at once, as several hosts' copies of a task would arrive.
CELERY_WORKER_DIRECT = True

# The incremental sync as often as the soak asks for it, through beat as deployed.
CELERY_BEAT_SCHEDULE["zoho-sync-incremental"]["schedule"] = timedelta(  # noqa: F405
    seconds=env.int(  # noqa: F405
        "BENCH_FLEET_SYNC_SECONDS",
        default=ZOHO_SYNC_INTERVAL_MINUTES * 60,  # noqa: F405
    )
)
