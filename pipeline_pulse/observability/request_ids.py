"""Request ids: one per request, on every log line it causes, in its response, and beyond.

The id is taken from the incoming `X-Request-ID` when it is sane (a load balancer's or a
caller's, so one id spans systems), else generated. django-structlog binds it to the log
context; its Celery support carries the context into tasks queued during the request, and a
sync run started by such a task stores it (`SyncRun.request_id`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from django.http import HttpRequest, HttpResponseBase
from django_structlog import signals

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_MAX_LENGTH = 128
# Letters, digits and a few separators: enough for UUIDs, hex trace ids and most proxies' ids;
# nothing that could forge a log line, break a header or smuggle markup into the admin.
SANE_REQUEST_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:-]{{0,{REQUEST_ID_MAX_LENGTH - 1}}}")
_META_KEY = "pipeline_pulse.request_id"

Handler = Callable[[HttpRequest], Any]


def request_id_accept(candidate: str | None) -> str:
    """The caller's id when it is sane, else a new one."""
    if candidate and SANE_REQUEST_ID.fullmatch(candidate):
        return candidate
    return str(uuid.uuid4())


def request_id_of(request: HttpRequest) -> str:
    """The id of a request that went through the middleware (a new one if it did not)."""
    request_id: str | None = request.META.get(_META_KEY)
    if request_id is None:
        request_id = request.META[_META_KEY] = request_id_accept(
            request.headers.get(REQUEST_ID_HEADER)
        )
    return request_id


def current_request_id() -> str | None:
    """The id of the request this work serves: in a request, or in a task it queued."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return str(value)[:REQUEST_ID_MAX_LENGTH] if value else None


def request_id_middleware(get_response: Handler) -> Handler:
    """Chooses the request's id and returns it in the `X-Request-ID` response header.

    Placed before SecurityMiddleware, so redirects and errors carry the id too. Synchronous
    like WhiteNoise inside it, so Django runs the chain in one thread under ASGI as well.
    """

    def middleware(request: HttpRequest) -> HttpResponseBase:
        request_id = request_id_of(request)
        response: HttpResponseBase = get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response

    return middleware


def _bind_request_id(sender: object, request: HttpRequest, **kwargs: Any) -> None:
    """django-structlog binds a random id of its own; ours replaces it before the first line."""
    structlog.contextvars.bind_contextvars(request_id=request_id_of(request))


# Connected on import: Django imports this module when it loads the middleware, before the
# first request.
signals.bind_extra_request_metadata.connect(
    _bind_request_id, dispatch_uid="pipeline_pulse.request_id"
)
