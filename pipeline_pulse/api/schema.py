"""OpenAPI helpers: the error body's schema, documented on every operation, and its examples."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers

from pipeline_pulse.api.errors import error_body


class ErrorDetailSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="Stable, machine-readable: e.g. `invalid`, `not_found`.")
    message = serializers.CharField(help_text="What went wrong, for a person.")
    details = serializers.JSONField(
        help_text="For `invalid`: the messages by field. For `throttled`: `retry_after_seconds`. "
        "Otherwise empty."
    )


class ErrorSerializer(serializers.Serializer[Any]):
    error = ErrorDetailSerializer()


# Status → what it means on this API; every operation may answer these.
COMMON_ERRORS = {
    "401": "No credentials, or a bad, expired or revoked token.",
    "403": "The login's role may not do this (or has no role), or a read-only token writes.",
    "429": "Too many requests; wait `Retry-After` seconds.",
}
ERROR_EXAMPLES = {
    "400": (
        "invalid",
        "The request is not valid. probability: Ensure this value is less than or equal to 100.",
        {"probability": ["Ensure this value is less than or equal to 100."]},
    ),
    "401": ("not_authenticated", "Authentication credentials were not provided.", {}),
    "403": ("permission_denied", "You do not have permission to perform this action.", {}),
    "404": ("not_found", "Not found.", {}),
    "409": ("conflict", "A sync is already running (run 42).", {"run": 42}),
    "429": (
        "throttled",
        "Request was throttled. Expected available in 12 seconds.",
        {"retry_after_seconds": 12},
    ),
}


def error_response(status: str, description: str) -> OpenApiResponse:
    code, message, details = ERROR_EXAMPLES[status]
    example = OpenApiExample(
        code,
        value=error_body(code, message, details),
        response_only=True,
        status_codes=[status],
    )
    return OpenApiResponse(ErrorSerializer, description=description, examples=[example])


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Responses for the errors an operation answers beyond the common ones."""
    descriptions = {
        400: "The input is not valid; `details` names each field.",
        404: "No such resource, or not one this login may see.",
        409: "Conflicts with the current state.",
    }
    return {status: error_response(str(status), descriptions[status]) for status in statuses}


def document_query_rules(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: what the API does with a query string, said in the schema.

    An empty parameter means "not given", everywhere (django-filter's and DRF's reading of a
    query string, and how the board's own URLs send unset filters: `?closing=&owner=`). A
    paged list answers 400 to a `page` or `page_size` that is not a whole number in range
    (base.PageNumberPagination).
    """
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in operations.values():
            names = {parameter.get("name") for parameter in operation.get("parameters", [])}
            for parameter in operation.get("parameters", []):
                # Free text takes "" as it is; a number, date, choice or list does not.
                if parameter.get("in") == "query" and parameter.get("schema") != {"type": "string"}:
                    parameter["allowEmptyValue"] = True
            responses = operation.setdefault("responses", {})
            if "page_size" in names and "400" not in responses:
                responses["400"] = _error_reference(
                    "400", "`page` or `page_size` is not a whole number in range."
                )
    return result


def _error_reference(status: str, description: str) -> dict[str, Any]:
    code, message, details = ERROR_EXAMPLES[status]
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Error"},
                "examples": {code: {"value": error_body(code, message, details)}},
            }
        },
    }


def add_common_errors(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: 401, 403 and 429 (the error body) on every API operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    if "Error" not in schemas:
        return result
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in COMMON_ERRORS.items():
                responses.setdefault(status, _error_reference(status, description))
    return result
