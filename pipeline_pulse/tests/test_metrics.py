"""/metrics: guarded, the request metrics plus the product's own, several processes added up."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from pytest_django import Settings

from currency.models import RateSource
from currency.tests.factories import ExchangeRateFactory
from opportunities.models import Conflict, HealthStatus, Outcome, Phase
from opportunities.tests.factories import OpportunityFactory
from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger
from sync.services import zoho_sync
from sync.tests.fakes import FakeDealSource, deal_record
from sync.zoho.records import MalformedDeal

pytestmark = pytest.mark.django_db

TOKEN = "scrape-9d2f7c41e8b3a6f0"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def metrics_token(settings: Settings) -> str:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    return TOKEN


def scrape(client: Client) -> Samples:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


# --- The guard ---------------------------------------------------------------------------------


def test_without_the_token_metrics_is_a_404(client: Client, metrics_token: str) -> None:
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_with_nothing_configured_nobody_gets_metrics(client: Client, settings: Settings) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize(
    ("networks", "address", "served"),
    [
        (["127.0.0.0/8"], "127.0.0.1", True),
        (["10.0.0.0/8", "fd00::/8"], "10.20.30.40", True),
        (["10.0.0.0/8"], "::ffff:10.1.2.3", True),  # IPv4 seen through an IPv6 socket
        (["10.0.0.0/8"], "192.168.1.5", False),
        (["fd00::/8"], "fd12::1", True),
        ([], "127.0.0.1", False),
    ],
)
def test_an_allowed_network_is_served_without_a_token(
    client: Client, settings: Settings, networks: list[str], address: str, served: bool
) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = networks
    response = client.get("/metrics", REMOTE_ADDR=address)
    assert response.status_code == (200 if served else 404)


def test_a_bad_network_in_the_settings_stops_the_process() -> None:
    env = {**os.environ, "METRICS_ALLOWED_NETWORKS": "10.0.0.0/8,not-a-network"}
    result = subprocess.run(
        [sys.executable, "-c", "import pipeline_pulse.settings"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "METRICS_ALLOWED_NETWORKS" in result.stderr


# --- What it serves ----------------------------------------------------------------------------


def test_metrics_serves_request_metrics_and_the_products_families(
    client: Client, metrics_token: str
) -> None:
    client.get("/healthz")
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    declared = {
        line.split()[2]: line.split()[3]
        for line in response.content.decode().splitlines()
        if line.startswith("# TYPE ")
    }
    assert declared["django_http_requests_total_by_view_transport_method_total"] == "counter"
    product = {
        name: kind
        for name, kind in declared.items()
        # prometheus_client adds an X_created gauge beside each counter child it has made.
        if name.startswith("pipeline_pulse") and not name.endswith("_created")
    }
    assert product == {
        "pipeline_pulse_sync_runs_total": "counter",
        "pipeline_pulse_sync_duration_seconds": "histogram",
        "pipeline_pulse_sync_records_fetched_total": "counter",
        "pipeline_pulse_sync_records_written_total": "counter",
        "pipeline_pulse_sync_records_skipped_total": "counter",
        "pipeline_pulse_api_calls_total": "counter",
        "pipeline_pulse_api_retries_total": "counter",
        "pipeline_pulse_deals": "gauge",
        "pipeline_pulse_pending_writebacks": "gauge",
        "pipeline_pulse_conflicts_open": "gauge",
        "pipeline_pulse_fx_rate_age_seconds": "gauge",
        "pipeline_pulse_sync_last_success_timestamp_seconds": "gauge",
    }


def test_deals_by_health_phase_and_outcome_and_pending_write_backs(
    client: Client, metrics_token: str
) -> None:
    OpportunityFactory.create_batch(
        2, health_status=HealthStatus.DANGER, phase=Phase.PROPOSAL, outcome=Outcome.OPEN
    )
    OpportunityFactory.create(
        health_status=HealthStatus.SUCCESS,
        phase=Phase.QUALIFIED,
        outcome=Outcome.OPEN,
        pending_fields=["closing_date"],
    )
    OpportunityFactory.create(
        health_status=HealthStatus.DANGER, phase=Phase.PROPOSAL, is_deleted=True
    )
    samples = scrape(client)
    deals = {
        labels: value for (name, labels), value in samples.items() if name == "pipeline_pulse_deals"
    }
    assert deals == {
        (("health", "danger"), ("outcome", "open"), ("phase", "proposal")): 2.0,
        (("health", "success"), ("outcome", "open"), ("phase", "qualified")): 1.0,
    }
    assert samples[("pipeline_pulse_pending_writebacks", ())] == 1.0


def test_open_conflicts_by_field(client: Client, metrics_token: str) -> None:
    deal = OpportunityFactory.create()
    for name, status, resolution in (
        ("amount", "open", ""),
        ("closing_date", "open", ""),
        ("probability", "resolved", "took_zoho"),
    ):
        Conflict.objects.create(
            opportunity=deal, field=name, strategy="manual", status=status, resolution=resolution
        )
    samples = scrape(client)
    conflicts = {
        labels: value
        for (name, labels), value in samples.items()
        if name == "pipeline_pulse_conflicts_open"
    }
    assert conflicts == {(("field", "amount"),): 1.0, (("field", "closing_date"),): 1.0}


def test_deals_are_counted_in_one_grouped_query_however_many_there_are(
    client: Client, metrics_token: str
) -> None:
    def deal_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            scrape(client)
        return sum("opportunities_opportunity" in query["sql"] for query in queries)

    OpportunityFactory.create_batch(2)
    few = deal_queries()
    OpportunityFactory.create_batch(6, health_status=HealthStatus.WARNING, phase=Phase.REVENUE)
    assert deal_queries() == few == 1


def test_fx_rate_age_per_currency_from_the_rates_in_effect(
    client: Client, metrics_token: str
) -> None:
    now = timezone.now().replace(microsecond=0)
    ExchangeRateFactory.create(currency="SGD", as_of=now - timedelta(hours=2))
    ExchangeRateFactory.create(
        currency="EUR", units_per_usd=Decimal("0.92"), as_of=now - timedelta(days=9)
    )
    ExchangeRateFactory.create(
        currency="INR",
        units_per_usd=Decimal("83"),
        as_of=now - timedelta(days=40),
        source=RateSource.SEED,
    )
    with time_machine.travel(now, tick=False):
        samples = scrape(client)
    ages = {
        tuple(sorted(dict(labels).items())): value
        for (name, labels), value in samples.items()
        if name == "pipeline_pulse_fx_rate_age_seconds"
    }
    assert ages == {
        (("currency", "SGD"), ("source", "api")): 2 * 3600,
        (("currency", "EUR"), ("source", "api")): 9 * 86400,
        (("currency", "INR"), ("source", "seed")): 40 * 86400,
    }


def test_last_successful_sync_per_kind(client: Client, metrics_token: str) -> None:
    finished = timezone.now() - timedelta(minutes=20)
    SyncRun.objects.create(
        kind=SyncKind.FULL,
        trigger=SyncTrigger.SCHEDULE,
        status=SyncStatus.SUCCEEDED,
        finished_at=finished,
    )
    SyncRun.objects.create(
        kind=SyncKind.INCREMENTAL,
        trigger=SyncTrigger.SCHEDULE,
        status=SyncStatus.FAILED,
        finished_at=timezone.now(),
    )
    samples = scrape(client)
    name = "pipeline_pulse_sync_last_success_timestamp_seconds"
    assert samples[(name, (("kind", "full"),))] == pytest.approx(finished.timestamp())
    assert (name, (("kind", "incremental"),)) not in samples


# --- Counted where the work happens ------------------------------------------------------------


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_sync_run_is_counted_with_its_duration_and_records(
    client: Client, metrics_token: str
) -> None:
    labels = {"kind": "full", "outcome": "succeeded"}
    before = {
        "runs": counter("pipeline_pulse_sync_runs_total", **labels),
        "timed": counter("pipeline_pulse_sync_duration_seconds_count", **labels),
        "fetched": counter("pipeline_pulse_sync_records_fetched_total", kind="full"),
        "created": counter(
            "pipeline_pulse_sync_records_written_total", kind="full", action="created"
        ),
        "malformed": counter(
            "pipeline_pulse_sync_records_skipped_total", kind="full", reason="malformed"
        ),
    }
    bad = MalformedDeal(
        zoho_id="6000000999999999999", reason="no Deal_Name", zoho_modified_time=None
    )
    source = FakeDealSource([deal_record(n) for n in range(4)], malformed=[bad])
    run = zoho_sync(kind=SyncKind.FULL, trigger=SyncTrigger.COMMAND, source=source)
    assert run.status == SyncStatus.SUCCEEDED
    after = {
        "runs": counter("pipeline_pulse_sync_runs_total", **labels),
        "timed": counter("pipeline_pulse_sync_duration_seconds_count", **labels),
        "fetched": counter("pipeline_pulse_sync_records_fetched_total", kind="full"),
        "created": counter(
            "pipeline_pulse_sync_records_written_total", kind="full", action="created"
        ),
        "malformed": counter(
            "pipeline_pulse_sync_records_skipped_total", kind="full", reason="malformed"
        ),
    }
    assert {key: after[key] - before[key] for key in after} == {
        "runs": 1,
        "timed": 1,
        "fetched": 5,
        "created": 4,
        "malformed": 1,
    }
    # And /metrics serves them.
    samples = scrape(client)
    assert samples[("pipeline_pulse_sync_runs_total", (("kind", "full"), ("outcome", "succeeded")))]


def test_a_failed_sync_run_is_counted_as_failed() -> None:
    before = counter("pipeline_pulse_sync_runs_total", kind="full", outcome="failed")
    failing = FakeDealSource([deal_record(1)], fail_after_pages=0)
    run = zoho_sync(kind=SyncKind.FULL, trigger=SyncTrigger.COMMAND, source=failing)
    assert run.status == SyncStatus.FAILED
    assert counter("pipeline_pulse_sync_runs_total", kind="full", outcome="failed") == before + 1


# --- Several processes -------------------------------------------------------------------------

COUNT_IN_A_PROCESS = """
from pipeline_pulse.observability.metrics import api_call_observe, sync_run_observe
api_call_observe(service="Zoho", outcome="200")
sync_run_observe(kind="incremental", outcome="succeeded", duration_seconds=2.5, fetched=10,
                 written={"updated": 3}, skipped={})
"""


def test_counters_from_several_processes_add_up(
    client: Client, metrics_token: str, settings: Settings, tmp_path: Path
) -> None:
    """Two worker processes each count one sync; /metrics, in multiprocess mode, says two."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", COUNT_IN_A_PROCESS],
            env=env,
            cwd=settings.BASE_DIR,
            check=True,
            timeout=60,
        )
    assert len(list(tmp_path.glob("counter_*.db"))) == 2  # one file per process
    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path)
    samples = scrape(client)
    runs = (("kind", "incremental"), ("outcome", "succeeded"))
    assert samples[("pipeline_pulse_sync_runs_total", runs)] == 2.0
    assert samples[("pipeline_pulse_sync_duration_seconds_sum", runs)] == 5.0
    assert (
        samples[("pipeline_pulse_sync_records_fetched_total", (("kind", "incremental"),))] == 20.0
    )
    assert (
        samples[("pipeline_pulse_api_calls_total", (("outcome", "200"), ("service", "zoho")))]
        == 2.0
    )
    # The state read from the database is served beside them.
    assert ("pipeline_pulse_pending_writebacks", ()) in samples


def test_without_the_database_the_request_metrics_still_answer(
    client: Client, metrics_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr("pipeline_pulse.metrics_endpoint.effective_rates", unavailable)
    client.get("/healthz")
    names = {name for name, _ in scrape(client)}
    assert "django_http_requests_total_by_view_transport_method_total" in names
    # No half-read state: every database family is missing from this scrape.
    assert not {name for name in names if name.startswith("pipeline_pulse_deals")}
    assert "pipeline_pulse_pending_writebacks" not in names


def test_a_client_address_that_is_not_an_ip_is_refused(client: Client, settings: Settings) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["0.0.0.0/0"]
    assert client.get("/metrics", REMOTE_ADDR="unix-socket").status_code == 404
