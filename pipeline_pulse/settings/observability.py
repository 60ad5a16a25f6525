"""Logs, metrics, errors and traces (docs/operations.md)."""

import ipaddress

from django.core.exceptions import ImproperlyConfigured

from pipeline_pulse.observability.logs import logging_settings
from pipeline_pulse.settings.email import EMAIL_HOST_PASSWORD
from pipeline_pulse.settings.environment import env
from pipeline_pulse.settings.integrations import (
    CURRENCYFREAKS_API_KEY,
    ZOHO_CLIENT_SECRET,
    ZOHO_LOGIN_CLIENT_SECRET,
    ZOHO_REFRESH_TOKEN,
)

# --- Logging ---

# Every line, through structlog or the standard library, comes out through one handler on
# standard error: JSON (production) or readable console lines, with the request id, secrets
# redacted (pipeline_pulse/observability/logs.py, docs/operations.md).
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="console").strip().lower()
LOGGING_CONFIG = "pipeline_pulse.observability.logs.logging_configure"
LOGGING = logging_settings(
    log_format=LOG_FORMAT,
    level=LOG_LEVEL,
    secrets=[
        *(ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN, CURRENCYFREAKS_API_KEY),
        *(ZOHO_LOGIN_CLIENT_SECRET, EMAIL_HOST_PASSWORD),
    ],
)
# Tasks queued during a request log its request id (a header django-structlog adds).
DJANGO_STRUCTLOG_CELERY_ENABLED = True

# --- Metrics ---

# /metrics answers only a scraper that sends `Authorization: Bearer <METRICS_TOKEN>` or
# connects from one of METRICS_ALLOWED_NETWORKS (CIDR list); anyone else gets a 404, and so
# does everyone while neither is set.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
try:
    METRICS_ALLOWED_NETWORKS = [
        str(ipaddress.ip_network(network.strip(), strict=False))
        for network in env.list("METRICS_ALLOWED_NETWORKS", default=[])
        if network.strip()
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {exc}") from None
# Several processes (uvicorn workers, Celery's pool) write their counters to files in this
# folder, and /metrics adds them up. prometheus_client reads the variable itself, when it is
# first imported; the web server and the worker must share the folder.
PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR", default="")

# --- Errors and traces ---

# Both are off until their variable is set; pipeline_pulse/observability/telemetry.py starts
# them once in every process (web, worker, beat, management commands).
SENTRY_DSN = env("SENTRY_DSN", default="")
# Tags errors and traces; the package version when empty.
APP_RELEASE = env("APP_RELEASE", default="")
APP_ENVIRONMENT = env("APP_ENVIRONMENT", default="production")
# An OTLP/HTTP collector's base URL, e.g. http://otel-collector:4318 (traces go to /v1/traces).
OTEL_EXPORTER_OTLP_ENDPOINT = env("OTEL_EXPORTER_OTLP_ENDPOINT", default="")
