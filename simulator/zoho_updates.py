"""Zoho's Update Records (PUT /crm/v8/Deals), simulated: per-record validation and results."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from simulator.dataset import CURRENCIES, DATE_FIELDS, INTEGRATION_USER, STAGES_BY_NAME
from simulator.http import Request, Response
from simulator.zoho_store import DealStore

MAX_RECORDS_PER_UPDATE = 100
# A currency field's `length`: 16 digits, its 2 decimals included.
AMOUNT_DIGITS = 16
AMOUNT_LIMIT = Decimal("99999999999999.99")
READ_ONLY_FIELDS = frozenset(
    {
        "Created_Time",
        "Modified_Time",
        "Created_By",
        "Modified_By",
        "Expected_Revenue",
        "Last_Activity_Time",
        "Exchange_Rate",
        "$currency_symbol",
        "$approved",
        "$editable",
        "$state",
    }
)
TEXT_FIELDS = frozenset(
    {
        "Type",
        "Lead_Source",
        "Region",
        "Solution_Type",
        "Type_of_Funding",
        "Market_Segment",
        "Description",
    }
)
UPDATABLE_FIELDS = frozenset(
    {"Amount", "Probability", "Currency", "Stage", "Deal_Name", *DATE_FIELDS, *TEXT_FIELDS}
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "details": details or {}, "message": message, "status": "error"}


def _invalid(api_name: str, expected: str) -> dict[str, Any]:
    return error_body(
        "INVALID_DATA", "invalid data", {"api_name": api_name, "expected_data_type": expected}
    )


def _check_value(api_name: str, value: Any) -> tuple[dict[str, Any] | None, Any]:
    """(error, value to store): Zoho's validation of one field of an update."""
    if api_name in READ_ONLY_FIELDS or api_name not in UPDATABLE_FIELDS:
        return _invalid(api_name, "an updatable field"), None
    if api_name == "Amount":
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, Decimal)) or value < 0
        ):
            return _invalid(api_name, "double"), None
        if value is not None and value > AMOUNT_LIMIT:
            return error_body(
                "INVALID_DATA",
                "invalid data",
                {"api_name": api_name, "maximum_length": AMOUNT_DIGITS, "json_path": "$.data[0]"},
            ), None
        return None, None if value is None else Decimal(value).quantize(Decimal("0.01"))
    if api_name == "Probability":
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100
        ):
            return _invalid(api_name, "integer"), None
        return None, value
    if api_name in DATE_FIELDS:
        if value is None:
            return None, None
        if not isinstance(value, str) or not _DATE.match(value):
            return _invalid(api_name, "date"), None
        try:
            date.fromisoformat(value)
        except ValueError:
            return _invalid(api_name, "date"), None
        return None, value
    if api_name == "Currency":
        if value not in CURRENCIES:
            return _invalid(api_name, "currency"), None
        return None, value
    if api_name == "Stage":
        if value not in STAGES_BY_NAME:
            return _invalid(api_name, "picklist"), None
        return None, value
    if api_name == "Deal_Name":
        if not isinstance(value, str) or not 0 < len(value) <= 120:
            return _invalid(api_name, "text"), None
        return None, value
    if value is not None and (not isinstance(value, str) or len(value) > 255):
        return _invalid(api_name, "text"), None
    return None, value


def _same_name(api_name: str) -> str | None:
    return api_name


def handle_update(
    request: Request,
    store: DealStore,
    *,
    field_named: Callable[[str], str | None] = _same_name,
) -> Response:
    """PUT /crm/v8/Deals: 200 all updated, 207 some, 400 none, 412 none as all were stale."""
    try:
        body = json.loads(request.body or b"null", parse_float=Decimal)
    except ValueError:
        return _respond(400, error_body("INVALID_DATA", "body", {}))
    records = body.get("data") if isinstance(body, dict) else None
    if not isinstance(records, list) or not records:
        return _respond(
            400,
            error_body("MANDATORY_NOT_FOUND", "required field not found", {"api_name": "data"}),
        )
    if len(records) > MAX_RECORDS_PER_UPDATE:
        return _respond(
            400,
            error_body(
                "LIMIT_EXCEEDED", "Record count exceeded", {"limit": MAX_RECORDS_PER_UPDATE}
            ),
        )
    unmodified_since: datetime | None = None
    header = request.header("If-Unmodified-Since")
    if header:
        try:
            unmodified_since = datetime.fromisoformat(header)
        except ValueError:
            return _respond(400, _invalid("If-Unmodified-Since", "datetime"))
        if unmodified_since.tzinfo is None:
            return _respond(400, _invalid("If-Unmodified-Since", "datetime"))
    results = []
    with store.lock:
        for record in records:
            results.append(_update_one(record, store, unmodified_since, field_named))
    failures = [r for r in results if r["status"] == "error"]
    if not failures:
        status = 200
    elif len(failures) < len(results):
        status = 207
    elif all(r["code"] == "ALREADY_MODIFIED" for r in failures):
        status = 412
    else:
        status = 400
    return _respond(status, {"data": results})


def _update_one(
    record: object,
    store: DealStore,
    unmodified_since: datetime | None,
    field_named: Callable[[str], str | None],
) -> dict[str, Any]:
    if not isinstance(record, dict) or not record.get("id"):
        return error_body("MANDATORY_NOT_FOUND", "required field not found", {"api_name": "id"})
    deal_id = str(record["id"])
    current = store.get(deal_id)
    if current is None:
        return error_body("INVALID_DATA", "the id given seems to be invalid", {"id": deal_id})
    if unmodified_since is not None and store.modified_epoch(deal_id) > int(
        unmodified_since.timestamp()
    ):
        return error_body(
            "ALREADY_MODIFIED",
            "the record has been modified after the given time",
            {"id": deal_id, "Modified_Time": current["Modified_Time"]},
        )
    changes: dict[str, Any] = {}
    for api_name, value in record.items():
        if api_name == "id":
            continue
        field = field_named(api_name)  # the org may name a custom field differently
        if field is None:
            return _invalid(api_name, "an updatable field")
        error, stored = _check_value(field, value)
        if error is not None:
            return error
        changes[field] = stored
    if "Currency" in changes:
        currency = CURRENCIES[changes["Currency"]]
        changes["Exchange_Rate"] = currency.per_sgd
        changes["$currency_symbol"] = currency.symbol
    updated = store.modify(deal_id, changes, by=INTEGRATION_USER)
    return {
        "code": "SUCCESS",
        "details": {
            "Modified_Time": updated["Modified_Time"],
            "Modified_By": {"name": INTEGRATION_USER["name"], "id": INTEGRATION_USER["id"]},
            "Created_Time": updated["Created_Time"],
            "id": deal_id,
            "Created_By": {
                "name": updated["Created_By"]["name"],
                "id": updated["Created_By"]["id"],
            },
        },
        "message": "record updated",
        "status": "success",
    }


def _respond(status: int, payload: dict[str, Any]) -> Response:
    return Response.json(payload, status=status)
