"""Errors to Sentry and traces to OpenTelemetry, each only when its setting is set.

`telemetry_init()` runs once per process, when Django is set up (PipelinePulseConfig.ready):
the web server, the Celery worker and beat, and every management command. Neither service is
needed to run, and neither is contacted at start: Sentry sends an event only for an error,
the span exporter only the traces it batched.
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import structlog
from django.conf import settings

from pipeline_pulse.observability.redaction import SecretRedactor

if TYPE_CHECKING:
    from sentry_sdk.types import Event, Hint

logger = structlog.get_logger(__name__)

SERVICE_NAME = "pipeline-pulse"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_started = False


def app_release() -> str:
    """APP_RELEASE, or the installed package's version."""
    if settings.APP_RELEASE:
        return str(settings.APP_RELEASE)
    try:
        return importlib.metadata.version("pipeline-pulse")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def telemetry_init() -> None:
    """Start what is configured; a second call in the same process does nothing."""
    global _started
    if _started:
        return
    _started = True
    if settings.PROMETHEUS_MULTIPROC_DIR:
        # prometheus_client writes there from the first counter on; it must exist.
        Path(settings.PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
    if settings.SENTRY_DSN:
        sentry_init()
    if settings.OTEL_EXPORTER_OTLP_ENDPOINT:
        tracing_init()


def sentry_init() -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=settings.SENTRY_DSN,
        release=app_release(),
        environment=settings.APP_ENVIRONMENT,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # No user ids, IP addresses, cookies or request bodies; before_send scrubs the rest.
        send_default_pii=False,
        before_send=sentry_before_send,
        # Traces go to OpenTelemetry; Sentry gets errors only.
        traces_sample_rate=0.0,
    )
    logger.info("sentry_enabled", environment=settings.APP_ENVIRONMENT, release=app_release())


def sentry_before_send(event: Event, hint: Hint) -> Event:
    """No secret and no personal data leaves: the log redaction, then e-mails and user names.

    The event is tagged with the request id, to find its log lines.
    """
    redactor = SecretRedactor(
        [
            *(settings.ZOHO_CLIENT_SECRET, settings.ZOHO_REFRESH_TOKEN),
            settings.CURRENCYFREAKS_API_KEY,
            *(settings.ZOHO_LOGIN_CLIENT_SECRET, settings.EMAIL_HOST_PASSWORD),
        ]
    )
    scrubbed: dict[str, Any] = _without_emails(redactor.redact(event))
    user = scrubbed.get("user")
    if isinstance(user, dict):
        # The numeric id says which login, for who may look it up; name and e-mail do not go.
        scrubbed["user"] = {"id": user["id"]} if "id" in user else {}
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id:
        scrubbed.setdefault("tags", {})["request_id"] = str(request_id)
    return cast("Event", scrubbed)


def _without_emails(value: Any) -> Any:
    if isinstance(value, str):
        return _EMAIL.sub("[email]", value)
    if isinstance(value, dict):
        return {
            key: ("[user]" if key in ("username", "email") else _without_emails(item))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_without_emails(item) for item in value)
    return value


def tracing_init() -> None:
    """Spans for requests, tasks, outgoing HTTP calls and SQL, sent over OTLP/HTTP."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create(
        {
            "service.name": SERVICE_NAME,
            "service.version": app_release(),
            "deployment.environment": settings.APP_ENVIRONMENT,
        }
    )
    provider = TracerProvider(resource=resource)
    endpoint = f"{settings.OTEL_EXPORTER_OTLP_ENDPOINT.rstrip('/')}/v1/traces"
    # The batch processor restarts its export thread in a forked child (Celery's pool).
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    # Before the web server loads its middleware: Django's instrumentation adds one.
    DjangoInstrumentor().instrument()
    CeleryInstrumentor().instrument()
    RequestsInstrumentor().instrument()
    PsycopgInstrumentor().instrument(enable_commenter=False)
    logger.info("tracing_enabled", endpoint=endpoint, service=SERVICE_NAME)
