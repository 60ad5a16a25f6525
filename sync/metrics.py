"""A finished sync run, as Prometheus counts it (the families are in
pipeline_pulse.observability.metrics)."""

from __future__ import annotations

from pipeline_pulse.observability.metrics import sync_run_observe
from sync.models import SyncRun


def sync_run_count(run: SyncRun) -> None:
    """Count a run that has just finished: outcome, duration and records, by kind."""
    duration = run.duration
    sync_run_observe(
        kind=run.kind,
        outcome=run.status,
        duration_seconds=duration.total_seconds() if duration else 0.0,
        fetched=run.fetched,
        written={"created": run.created, "updated": run.updated, "deleted": run.deleted},
        skipped={"malformed": run.skipped, "refused": run.failed},
    )
