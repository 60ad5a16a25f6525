"""One error body for every 4xx and 5xx on API paths: `{"error": {code, message, details}}`.

DRF's own errors go through `api_exception_handler`; Django's 400/403/404/500 handlers
(`handler404` and friends in the root urlconf) and the CSRF failure view answer the same
JSON for paths under /api/, and elsewhere the site's own pages (templates/400.html, 403.html,
403_csrf.html, 404.html in the site's layout; 500.html stands alone, needing no request,
login or database). A 500 never carries the exception's text: it may
hold a query, a value or a secret.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)

API_PATH_PREFIX = "/api/"
SERVER_ERROR_MESSAGE = (
    "Something went wrong on our side; the error was logged. Nothing was changed."
)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


class Conflict(exceptions.APIException):
    """409: the request clashes with the current state (e.g. a sync is already running)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"

    def __init__(self, detail: str | None = None, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.details = details or {}


def validation_details(error: DjangoValidationError) -> dict[str, list[str]]:
    """A Django ValidationError as {field: [messages]} ("non_field_errors" for the rest)."""
    if hasattr(error, "error_dict"):
        return {
            field: [str(message) for message in DjangoValidationError(messages).messages]
            for field, messages in error.error_dict.items()
        }
    return {"non_field_errors": [str(message) for message in error.messages]}


def _first_message(details: Any) -> str | None:
    if isinstance(details, Mapping):
        for field, value in details.items():
            message = _first_message(value)
            if message:
                return message if field == "non_field_errors" else f"{field}: {message}"
    elif isinstance(details, list | tuple):
        for value in details:
            message = _first_message(value)
            if message:
                return message
    elif details:
        return str(details)
    return None


def _plain(details: Any) -> Any:
    """ErrorDetail strings and nested structures as plain JSON values."""
    if isinstance(details, Mapping):
        return {str(key): _plain(value) for key, value in details.items()}
    if isinstance(details, list | tuple):
        return [_plain(value) for value in details]
    return str(details)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, then the error body; Django's own exceptions are translated first."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_details(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:  # not an API exception: Django's handler500 answers (and logs it)
        return None
    assert isinstance(exc, exceptions.APIException)  # noqa: S101 - handled above, for mypy
    if isinstance(exc, exceptions.ValidationError):
        details = _plain(exc.detail)
        if not isinstance(details, dict):
            details = {"non_field_errors": details}
        message = _first_message(details) or "The request is not valid."
        body = error_body("invalid", f"The request is not valid. {message}", details)
    else:
        detail = exc.detail
        message = str(exc.default_detail if isinstance(detail, dict | list) else detail)
        code = exc.get_codes()
        body = error_body(code if isinstance(code, str) else str(exc.default_code), message)
        if isinstance(exc, Conflict):
            body["error"]["details"] = exc.details
        elif isinstance(exc, exceptions.Throttled) and getattr(exc, "wait", None) is not None:
            body["error"]["details"] = {"retry_after_seconds": math.ceil(exc.wait)}  # type: ignore[attr-defined]
    response.data = body
    return response


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PATH_PREFIX)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        body = error_body("bad_request", "The request could not be understood.")
        return JsonResponse(body, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        message = str(exception) or "You do not have permission to do this."
        return JsonResponse(error_body("permission_denied", message), status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        body = error_body("not_found", f"There is no API resource at {request.path}.")
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse(error_body("server_error", SERVER_ERROR_MESSAGE), status=500)
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: JSON under /api/; elsewhere the site's page, with a way back.

    The usual cause is a form open from before a log-in or log-out. The reason Django gives
    is for the log, never the page.
    """
    logger.warning("CSRF check failed on %s: %s", request.path, reason)
    if is_api_request(request):
        body = error_body(
            "csrf_failed", "The CSRF check failed: send the session's CSRF token in X-CSRFToken."
        )
        return JsonResponse(body, status=403)
    referer = request.META.get("HTTP_REFERER", "")
    back = (
        referer
        if referer
        and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        else ""
    )
    return render(request, "403_csrf.html", {"back": back}, status=403)
