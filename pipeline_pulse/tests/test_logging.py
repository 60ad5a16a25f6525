"""Structured logs: JSON lines with level, event, timestamp and the request id, everywhere."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from pipeline_pulse.observability.logs import logging_settings
from pipeline_pulse.observability.request_ids import REQUEST_ID_MAX_LENGTH, request_id_accept

JsonLines = Callable[[], list[dict[str, Any]]]


def structured_handler(stream: io.StringIO, *, secrets: list[str] | None = None) -> logging.Handler:
    """A handler with the formatter LOGGING builds for LOG_FORMAT=json."""
    config = logging_settings(log_format="json", level="INFO", secrets=secrets or [])
    options = dict(config["formatters"]["structured"])
    factory = options.pop("()")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(factory(**options))
    return handler


@pytest.fixture
def json_lines() -> Iterator[JsonLines]:
    """Every line the root logger writes from now on, parsed: each must be one JSON object."""
    stream = io.StringIO()
    handler = structured_handler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_a_request_logs_json_lines_with_its_request_id(
    viewer_client: Client, json_lines: JsonLines
) -> None:
    response = viewer_client.get("/", HTTP_X_REQUEST_ID="lb-4f2a9c1e")
    assert response["X-Request-ID"] == "lb-4f2a9c1e"
    lines = json_lines()
    events = [line["event"] for line in lines]
    assert events[:1] == ["request_started"]
    assert "request_finished" in events
    for line in lines:
        assert line["request_id"] == "lb-4f2a9c1e"
        assert {"level", "event", "timestamp", "logger"} <= set(line)
    finished = next(line for line in lines if line["event"] == "request_finished")
    assert finished["code"] == 200
    assert finished["user_id"] == viewer_client.user.pk  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_standard_library_loggers_come_out_through_the_same_formatter(
    client: Client, json_lines: JsonLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`logging.getLogger(__name__)` in the apps: a %-message, formatted, with the request id."""
    from pipeline_pulse.web import probes

    class LoggingCache:
        """The cache the readiness probe writes to, logging as the apps' modules do."""

        def set(self, *args: object, **kwargs: object) -> None:
            logging.getLogger("sync.services").warning("Zoho sync %s failed: %s", 7, "HTTP 503")

        def get(self, key: str) -> str:
            return "ok"

    monkeypatch.setattr(probes, "cache", LoggingCache())
    response = client.get("/readyz", HTTP_X_REQUEST_ID="probe-1")
    line = next(line for line in json_lines() if line["logger"] == "sync.services")
    # pytest's own capture handler formats the record first, which adds `message` to it.
    line.pop("message", None)
    assert line == {
        "event": "Zoho sync 7 failed: HTTP 503",
        "level": "warning",
        "logger": "sync.services",
        "request_id": "probe-1",
        "ip": "127.0.0.1",
        "user_id": None,
        "timestamp": line["timestamp"],
    }
    assert line["timestamp"].endswith("Z")
    assert response["X-Request-ID"] == "probe-1"


def test_an_exception_is_logged_with_its_traceback_in_the_line(json_lines: JsonLines) -> None:
    try:
        raise ValueError("the rate table is empty")
    except ValueError:
        logging.getLogger("currency.services").exception("Refresh failed")
    (line,) = json_lines()
    assert line["level"] == "error"
    assert "Traceback" in line["exception"]
    assert "ValueError: the rate table is empty" in line["exception"]


@pytest.mark.django_db
def test_every_response_carries_a_request_id_even_without_one_coming_in(client: Client) -> None:
    first, second = client.get("/healthz"), client.get("/healthz")
    assert uuid.UUID(first["X-Request-ID"]) != uuid.UUID(second["X-Request-ID"])
    # Redirects to the login page too.
    assert client.get("/")["X-Request-ID"]


@pytest.mark.parametrize(
    "incoming",
    [
        "a" * (REQUEST_ID_MAX_LENGTH + 1),
        "id with spaces",
        'forged"}\n{"level": "info',
        "<script>",
        "-leading-dash",
        "",
    ],
)
def test_an_insane_incoming_request_id_is_replaced(incoming: str) -> None:
    accepted = request_id_accept(incoming)
    assert accepted != incoming
    assert uuid.UUID(accepted)


@pytest.mark.parametrize(
    "incoming",
    ["0f8fad5b-d9cb-469f-a165-70867728950e", "lb-4f2a9c1e", "a" * REQUEST_ID_MAX_LENGTH],
)
def test_a_sane_incoming_request_id_is_kept(incoming: str) -> None:
    assert request_id_accept(incoming) == incoming


@pytest.mark.django_db
def test_an_insane_header_is_not_echoed(client: Client) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID="x" * 500)
    assert uuid.UUID(response["X-Request-ID"])


def test_structlog_loggers_log_the_same_shape(json_lines: JsonLines) -> None:
    with structlog.contextvars.bound_contextvars(request_id="bound-1"):
        structlog.get_logger("sync.tasks").info("sync_queued", kind="full")
    (line,) = json_lines()
    assert line == {
        "event": "sync_queued",
        "kind": "full",
        "level": "info",
        "logger": "sync.tasks",
        "request_id": "bound-1",
        "timestamp": line["timestamp"],
    }


def test_console_format_is_readable_and_an_unknown_format_is_refused() -> None:
    stream = io.StringIO()
    config = logging_settings(log_format="console", level="INFO", secrets=[])
    options = dict(config["formatters"]["structured"])
    handler = logging.StreamHandler(stream)
    handler.setFormatter(options.pop("()")(**options))
    record = logging.LogRecord("sync", logging.INFO, __file__, 1, "Pulled %d deals", (3,), None)
    handler.emit(record)
    assert "[info" in stream.getvalue()
    assert "Pulled 3 deals" in stream.getvalue()
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT"):
        logging_settings(log_format="xml", level="INFO", secrets=[])


async def test_the_request_id_is_kept_on_the_asgi_path(async_client: Any) -> None:
    """uvicorn serves through the async middleware chain: the same id, the same header."""
    response = await async_client.get("/healthz", headers={"X-Request-ID": "asgi-1"})
    assert response.status_code == 200
    assert response["X-Request-ID"] == "asgi-1"


def test_uvicorns_coloured_copy_of_a_message_is_left_out() -> None:
    stream = io.StringIO()
    handler = structured_handler(stream)
    logger = logging.getLogger("uvicorn.error")  # has our handler, and does not propagate
    logger.addHandler(handler)
    try:
        logger.info(
            "Started server process [%d]", 42, extra={"color_message": "Started \x1b[36m%d\x1b[0m"}
        )
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["event"] == "Started server process [42]"
    assert "color_message" not in line
