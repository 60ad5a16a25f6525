"""Get Records' query parameters as Zoho checks them, and Zoho's JSON and error bodies.

The Zoho simulator's request edge: simulator.zoho routes, this module reads the query and
writes the answer's JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from simulator.http import Request, Response
from simulator.zoho_store import SORT_FIELDS
from simulator.zoho_updates import error_body

MAX_FIELDS = 50
MAX_PER_PAGE = 200


def _wire_number(value: object) -> object:
    # Zoho's JSON numbers are doubles. The data set keeps money in whole cents with at most 15
    # significant digits, so the shortest float repr is exactly the decimal text.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def zoho_json(payload: object, status: int = 200, **headers: str) -> Response:
    body = json.dumps(payload, default=_wire_number, separators=(",", ":")).encode()
    return Response(status, body, {"Content-Type": "application/json;charset=UTF-8", **headers})


def zoho_error(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return zoho_json(error_body(code, message, details), status, **(headers or {}))


def deals_query(request: Request) -> tuple[Any, ...] | Response:
    """Get Records' query parameters, checked as Zoho checks them; a page token is bound to
    exactly these (fields, per_page, sort_by, sort_order, If-Modified-Since)."""
    fields_arg = (request.arg("fields") or "").strip()
    if not fields_arg:
        return zoho_error(
            400,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            {"param": "fields"},
        )
    names = tuple(dict.fromkeys(f.strip() for f in fields_arg.split(",") if f.strip()))
    if len(names) > MAX_FIELDS:
        return zoho_error(400, "LIMIT_EXCEEDED", "Max field limit exceeded", {"limit": MAX_FIELDS})
    per_page = int_param(request, "per_page", MAX_PER_PAGE, maximum=MAX_PER_PAGE)
    if isinstance(per_page, Response):
        return per_page
    sort_by = request.arg("sort_by") or "id"
    sort_order = request.arg("sort_order") or "desc"
    if sort_by not in SORT_FIELDS:
        return bad_param("sort_by")
    if sort_order not in ("asc", "desc"):
        return bad_param("sort_order")
    if request.arg("page") and request.arg("page_token"):
        return zoho_error(
            400,
            "AMBIGUITY_DURING_PROCESSING",
            "page and page_token cannot be given together",
            {
                "ambiguity_due_to": [
                    {"api_name": "page", "json_path": "$.page"},
                    {"api_name": "page_token", "json_path": "$.page_token"},
                ]
            },
        )
    since = since_header(request)
    if isinstance(since, Response):
        return since
    return (names, per_page, sort_by, sort_order, since)


def int_param(
    request: Request, name: str, default: int, *, maximum: int | None = None
) -> int | Response:
    raw = request.arg(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return bad_param(name)
    if value < 1 or (maximum is not None and value > maximum):
        return bad_param(name)
    return value


def bad_param(name: str) -> Response:
    return zoho_error(400, "INVALID_DATA", "invalid data", {"param_name": name})


def since_header(request: Request) -> datetime | Response | None:
    header = request.header("If-Modified-Since")
    if not header:
        return None
    try:
        moment = datetime.fromisoformat(header.strip())
    except ValueError:
        return bad_param("If-Modified-Since")
    if moment.tzinfo is None:
        return bad_param("If-Modified-Since")
    return moment
