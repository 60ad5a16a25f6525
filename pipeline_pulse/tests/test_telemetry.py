"""Sentry and OpenTelemetry start from their settings, send nothing on their own, leak nothing."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from django.conf import settings
from pytest_django import Settings

from pipeline_pulse.observability.redaction import REDACTED
from pipeline_pulse.observability.telemetry import app_release, sentry_before_send

INSPECT = """
import json
import django
django.setup()
import sentry_sdk
from django.conf import settings
from opentelemetry import trace
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk.trace import TracerProvider

from pipeline_pulse.observability.telemetry import telemetry_init

telemetry_init()  # a second call, as a process that calls it twice would: changes nothing
client = sentry_sdk.get_client()
provider = trace.get_tracer_provider()
sdk_provider = isinstance(provider, TracerProvider)
processors = provider._active_span_processor._span_processors if sdk_provider else ()
print(json.dumps({
    "sentry_active": client.is_active(),
    "sentry": {key: client.options[key] for key in ("dsn", "release", "environment",
                                                   "send_default_pii")},
    "sentry_integrations": sorted(client.integrations),
    "sdk_provider": sdk_provider,
    "span_processors": len(processors),
    "resource": dict(provider.resource.attributes) if sdk_provider else {},
    "endpoint": processors[0].span_exporter._endpoint if processors else None,
    "instrumented": [
        instrumentor().is_instrumented_by_opentelemetry
        for instrumentor in (DjangoInstrumentor, CeleryInstrumentor, RequestsInstrumentor,
                             PsycopgInstrumentor)
    ],
    "django_middleware": settings.MIDDLEWARE[0],
}))
"""


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A local port standing in for Sentry and the collector: nothing may connect to it."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.setblocking(False)
        yield server


def inspect_process(**variables: str) -> dict[str, Any]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "OTEL_", "APP_"))},
        "DJANGO_SETTINGS_MODULE": "pipeline_pulse.settings",
        **variables,
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", INSPECT],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    parsed: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return parsed


def test_sentry_and_opentelemetry_start_from_their_settings(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    seen = inspect_process(
        SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/42",
        APP_RELEASE="2026.11.3",
        APP_ENVIRONMENT="staging",
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}/",
    )
    assert seen["sentry_active"] is True
    assert seen["sentry"] == {
        "dsn": f"http://publickey@127.0.0.1:{port}/42",
        "release": "2026.11.3",
        "environment": "staging",
        "send_default_pii": False,
    }
    assert {"django", "celery"} <= set(seen["sentry_integrations"])
    assert seen["sdk_provider"] is True
    assert seen["span_processors"] == 1  # started once, though telemetry_init ran twice
    assert seen["resource"]["service.name"] == "pipeline-pulse"
    assert seen["resource"]["service.version"] == "2026.11.3"
    assert seen["resource"]["deployment.environment"] == "staging"
    assert seen["endpoint"] == f"http://127.0.0.1:{port}/v1/traces"
    assert seen["instrumented"] == [True, True, True, True]
    assert seen["django_middleware"].startswith("opentelemetry.instrumentation.django")
    # Starting sent nothing: no connection reached the stand-in.
    with pytest.raises(BlockingIOError):
        listener.accept()


def test_without_their_settings_neither_starts() -> None:
    seen = inspect_process()
    assert seen["sentry_active"] is False
    assert seen["sdk_provider"] is False
    assert seen["instrumented"] == [False, False, False, False]


def test_the_release_is_the_package_version_unless_set(settings: Settings) -> None:
    settings.APP_RELEASE = ""
    assert app_release() == "0.1.0"
    settings.APP_RELEASE = "abc123"
    assert app_release() == "abc123"


def test_sentry_events_carry_no_secret_and_no_personal_data(settings: Settings) -> None:
    settings.ZOHO_REFRESH_TOKEN = "1000.refresh.9f8e7d6c5b4a3f2e1d0c"
    event: Any = {
        "message": "Sync failed for alice@example.com with 1000.refresh.9f8e7d6c5b4a3f2e1d0c",
        "user": {
            "id": 7,
            "email": "alice@example.com",
            "username": "alice",
            "ip_address": "1.2.3.4",
        },
        "request": {
            "url": "https://pulse.example.com/sync?apikey=abcdef123",
            "headers": {"Authorization": "Bearer eyJabc.def", "User-Agent": "Firefox"},
        },
        "exception": {
            "values": [
                {
                    "type": "ZohoAuthError",
                    "value": "refresh_token=1000.refresh.9f8e7d6c5b4a3f2e1d0c refused",
                    "stacktrace": {
                        "frames": [
                            {"vars": {"client_secret": "s3cr3t-value", "owner": "bob@corp.sg"}}
                        ]
                    },
                }
            ]
        },
        "breadcrumbs": {"values": [{"data": {"username": "alice", "pages": 3}}]},
    }
    with structlog.contextvars.bound_contextvars(request_id="req-77"):
        sent: Any = sentry_before_send(event, {})
    assert sent["message"] == f"Sync failed for [email] with {REDACTED}"
    assert sent["user"] == {"id": 7}
    assert sent["request"]["url"] == f"https://pulse.example.com/sync?apikey={REDACTED}"
    assert sent["request"]["headers"] == {"Authorization": REDACTED, "User-Agent": "Firefox"}
    (exception,) = sent["exception"]["values"]
    assert exception["value"] == f"refresh_token={REDACTED} refused"
    assert exception["stacktrace"]["frames"][0]["vars"] == {
        "client_secret": REDACTED,
        "owner": "[email]",
    }
    assert sent["breadcrumbs"]["values"][0]["data"] == {"username": "[user]", "pages": 3}
    assert sent["tags"] == {"request_id": "req-77"}


def test_sentry_is_started_with_the_products_options(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this process too: what telemetry_init hands the SDK (the SDK itself stays off)."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    from pipeline_pulse.observability import telemetry

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(sentry_sdk, "init", lambda **options: calls.append(options))
    monkeypatch.setattr(telemetry, "_started", False)
    settings.SENTRY_DSN = "https://key@sentry.example.com/1"
    settings.APP_RELEASE = "r42"
    settings.APP_ENVIRONMENT = "staging"
    settings.OTEL_EXPORTER_OTLP_ENDPOINT = ""
    telemetry.telemetry_init()
    telemetry.telemetry_init()
    (options,) = calls
    assert options["dsn"] == "https://key@sentry.example.com/1"
    assert (options["release"], options["environment"]) == ("r42", "staging")
    assert options["send_default_pii"] is False
    assert options["before_send"] is sentry_before_send
    assert options["traces_sample_rate"] == 0.0
    assert [type(integration) for integration in options["integrations"]] == [
        DjangoIntegration,
        CeleryIntegration,
    ]


def test_the_metrics_folder_is_created_at_start(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pipeline_pulse.observability import telemetry

    monkeypatch.setattr(telemetry, "_started", False)
    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path / "metrics")
    settings.SENTRY_DSN = settings.OTEL_EXPORTER_OTLP_ENDPOINT = ""
    telemetry.telemetry_init()
    assert (tmp_path / "metrics").is_dir()
