"""The product's own Prometheus counters and histograms, recorded where the work happens.

Sync runs are recorded by the process that runs them (the worker, or `manage.py zoho_sync`);
calls to Zoho and CurrencyFreaks by the retry engine both clients send through
(pipeline_pulse.retrying_http). With PROMETHEUS_MULTIPROC_DIR set, prometheus_client writes every
process's values to files in that folder and `/metrics` adds them up (docs/operations.md).
What is read from the database at scrape time (deals, FX rate age, pending write-backs) is in
metrics_endpoint, not here: this module is plumbing and imports no app.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

SYNC_RUNS = Counter(
    "pipeline_pulse_sync_runs_total",
    "Zoho sync runs that finished, by kind and outcome (succeeded or failed).",
    ["kind", "outcome"],
)
SYNC_DURATION = Histogram(
    "pipeline_pulse_sync_duration_seconds",
    "How long finished Zoho sync runs took.",
    ["kind", "outcome"],
    # An empty incremental run takes about a second; a full sync of a large org, most of an hour.
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600),
)
SYNC_RECORDS_FETCHED = Counter(
    "pipeline_pulse_sync_records_fetched_total",
    "Deal records received from Zoho by sync runs.",
    ["kind"],
)
SYNC_RECORDS_WRITTEN = Counter(
    "pipeline_pulse_sync_records_written_total",
    "Deals sync runs created, updated or marked deleted.",
    ["kind", "action"],
)
SYNC_RECORDS_SKIPPED = Counter(
    "pipeline_pulse_sync_records_skipped_total",
    "Records sync runs could not store: malformed, or refused by the database.",
    ["kind", "reason"],
)
API_CALLS = Counter(
    "pipeline_pulse_api_calls_total",
    "HTTP attempts to an external API, by its answer: the status code, or the network "
    "failure's name (ConnectTimeout, ReadTimeout, ConnectionError...).",
    ["service", "outcome"],
)
API_RETRIES = Counter(
    "pipeline_pulse_api_retries_total",
    "Attempts to an external API that were tried again, by the failed attempt's outcome.",
    ["service", "outcome"],
)


def service_label(service: str) -> str:
    """ "Zoho" -> "zoho", "CurrencyFreaks" -> "currencyfreaks"."""
    return service.lower()


def api_call_observe(*, service: str, outcome: str) -> None:
    """One HTTP attempt and its answer (a status code, or a network failure's name)."""
    API_CALLS.labels(service=service_label(service), outcome=outcome).inc()


def api_retry_observe(*, service: str, outcome: str) -> None:
    """An attempt that failed in a way worth trying again, and will be."""
    API_RETRIES.labels(service=service_label(service), outcome=outcome).inc()


def sync_run_observe(
    *,
    kind: str,
    outcome: str,
    duration_seconds: float,
    fetched: int,
    written: dict[str, int],
    skipped: dict[str, int],
) -> None:
    """A finished sync run: its outcome, duration and what it did to the records."""
    SYNC_RUNS.labels(kind=kind, outcome=outcome).inc()
    SYNC_DURATION.labels(kind=kind, outcome=outcome).observe(max(duration_seconds, 0.0))
    SYNC_RECORDS_FETCHED.labels(kind=kind).inc(fetched)
    for action, count in written.items():
        SYNC_RECORDS_WRITTEN.labels(kind=kind, action=action).inc(count)
    for reason, count in skipped.items():
        SYNC_RECORDS_SKIPPED.labels(kind=kind, reason=reason).inc(count)
