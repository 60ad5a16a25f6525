"""Zoho's record JSON to typed records and back; only the Zoho client (client.py) uses it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from currency.codes import normalise_code
from opportunities.deal_fields import CRM_FIELDS, DealField, FieldKind
from opportunities.models.choices import ForecastType
from opportunities.records import CrmStageRecord
from sync.zoho.field_map import FieldMap
from sync.zoho.records import AccountRecord, CrmUserRecord, DealRecord, DeletedDeal, MalformedDeal

# Zoho stamps times with the org's offset; the API accepts any offset in headers.
SINGAPORE = ZoneInfo("Asia/Singapore")
MAX_TEXT_LENGTH = 120  # picklists and custom text fields, as stored
# Account and owner names, as stored.
_LOOKUP_NAME_LENGTH = max(
    field.max_length or 0
    for field in CRM_FIELDS
    if field.kind in (FieldKind.ACCOUNT, FieldKind.OWNER)
)
# NUMERIC(18, 2) holds at most 16 digits before the point.
MAX_AMOUNT = Decimal("9999999999999999.99")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ZOHO_ID = re.compile(r"^\d{1,32}$")

T = TypeVar("T")


class _Invalid(ValueError):
    """One field's problem, phrased for a person: names the field and the value."""


def _show(value: object) -> str:
    """A value as a person reads it: numbers plain, text quoted."""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    return repr(value)


def format_zoho_datetime(moment: datetime) -> str:
    """`2019-07-25T15:26:49+08:00`: the form Zoho's headers and fields use."""
    if moment.tzinfo is None:
        raise ValueError("Zoho times must be timezone-aware")
    return moment.astimezone(SINGAPORE).isoformat(timespec="seconds")


def parse_zoho_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{_show(value)} is not a date-time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{_show(value)} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise ValueError(f"{_show(value)} has no UTC offset")
    return moment


def _text(api_name: str, value: object, limit: int = MAX_TEXT_LENGTH) -> str:
    if value is None:
        return ""
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        value = value["name"]  # a picklist or lookup sent as {name, id}
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise _Invalid(f"{api_name} {_show(value)} is not text")
    text = str(value).strip()
    if len(text) > limit:
        raise _Invalid(f"{api_name} is {len(text)} characters long; at most {limit} are allowed")
    return text


def _number(api_name: str, value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise _Invalid(f"{api_name} {_show(value)} is not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _Invalid(f"{api_name} {_show(value)} is not a number") from None
    if not number.is_finite():
        raise _Invalid(f"{api_name} {_show(value)} is not a finite number")
    return number


def _amount(api_name: str, value: object) -> Decimal | None:
    amount = _number(api_name, value)
    if amount is not None and amount < 0:
        raise _Invalid(f"{api_name} {_show(value)} is negative")
    if amount is not None and amount > MAX_AMOUNT:
        raise _Invalid(f"{api_name} {_show(value)} is too large to store")
    return amount


def _exchange_rate(api_name: str, value: object) -> Decimal | None:
    rate = _number(api_name, value)
    if rate is not None and rate <= 0:
        raise _Invalid(f"{api_name} {_show(value)} is not a positive rate")
    return rate


def _probability(api_name: str, value: object) -> int | None:
    number = _number(api_name, value)
    if number is None:
        return None
    if number != number.to_integral_value() or not 0 <= number <= 100:
        raise _Invalid(f"{api_name} {_show(value)} is not a whole number from 0 to 100")
    return int(number)


def _currency(api_name: str, value: object, home_currency: str) -> str:
    if value is None or value == "":
        return home_currency
    code = normalise_code(value)
    if code is None:
        raise _Invalid(f"{api_name} {_show(value)} is not a three-letter ISO 4217 code")
    return code


def _date(api_name: str, value: object) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _DATE.match(value):
        raise _Invalid(f"{api_name} {_show(value)} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Invalid(f"{api_name} {_show(value)} is not a real date") from None


def _optional_datetime(api_name: str, value: object) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_zoho_datetime(value)
    except ValueError as exc:
        raise _Invalid(f"{api_name} {exc}") from None


def _lookup_id(api_name: str, value: dict[str, Any]) -> str:
    zoho_id = value.get("id")
    if not isinstance(zoho_id, str) or not _ZOHO_ID.match(zoho_id):
        raise _Invalid(f"{api_name} has no valid id ({zoho_id!r})")
    return zoho_id


def _owner(api_name: str, value: object) -> CrmUserRecord | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Invalid(f"{api_name} {_show(value)} is not a user")
    email = value.get("email") or ""
    if not isinstance(email, str) or len(email) > 254:
        raise _Invalid(f"{api_name} e-mail {email!r} is not an address")
    return CrmUserRecord(
        zoho_id=_lookup_id(api_name, value),
        name=_text(f"{api_name} name", value.get("name"), _LOOKUP_NAME_LENGTH),
        email=email.strip(),
    )


def _account(api_name: str, value: object) -> AccountRecord | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Invalid(f"{api_name} {_show(value)} is not an account")
    return AccountRecord(
        zoho_id=_lookup_id(api_name, value),
        name=_text(f"{api_name} name", value.get("name"), _LOOKUP_NAME_LENGTH),
    )


class DealParser:
    """Reads Get Records' JSON into DealRecords with one org's field map.

    The per-field plan (API name and parse rule of each catalogued field) is built once, not
    for every record: a full sync parses tens of thousands.
    """

    def __init__(self, *, field_map: FieldMap, home_currency: str) -> None:
        self._plan = [
            (field.name, field_map.api_name(field.name), _parser(field, home_currency))
            for field in CRM_FIELDS
        ]
        self._modified_name = field_map.api_name("zoho_modified_time")

    def parse(self, raw: object) -> DealRecord | MalformedDeal:
        """One record → a DealRecord, or a MalformedDeal saying what is wrong."""
        if not isinstance(raw, dict):
            return MalformedDeal(zoho_id="", reason=f"record {raw!r} is not an object", **_NO_TIME)
        raw_id = raw.get("id")
        zoho_id = raw_id if isinstance(raw_id, str) else ("" if raw_id is None else str(raw_id))
        problems: list[str] = []
        if not _ZOHO_ID.match(zoho_id):
            problems.append("id is missing" if not zoho_id else f"id {zoho_id!r} is not a Zoho id")
        if raw.get(self._modified_name) is None:
            problems.append(f"{self._modified_name} is missing")
        values: dict[str, Any] = {}
        for name, api_name, parse in self._plan:
            try:
                values[name] = parse(api_name, raw.get(api_name))
            except _Invalid as exc:
                problems.append(str(exc))
                values[name] = None
        modified = values["zoho_modified_time"]
        if problems or modified is None:
            return MalformedDeal(
                zoho_id=zoho_id, reason="; ".join(problems), zoho_modified_time=modified
            )
        return DealRecord(zoho_id=zoho_id, **values)


def _parser(field: DealField, home_currency: str) -> Callable[[str, object], Any]:
    """How one catalogued field is read from Zoho's JSON, by its kind."""
    kind = field.kind
    if kind is FieldKind.TEXT:
        limit = field.max_length or MAX_TEXT_LENGTH
        return lambda api_name, value: _text(api_name, value, limit)
    if kind is FieldKind.CURRENCY:
        return lambda api_name, value: _currency(api_name, value, home_currency)
    return _PARSERS[kind]


_PARSERS: Mapping[FieldKind, Callable[[str, object], Any]] = {
    FieldKind.PERCENT: _probability,
    FieldKind.MONEY: _amount,
    FieldKind.RATE: _exchange_rate,
    FieldKind.DATE: _date,
    FieldKind.DATETIME: _optional_datetime,
    FieldKind.ACCOUNT: _account,
    FieldKind.OWNER: _owner,
}
_NO_TIME: Mapping[str, None] = {"zoho_modified_time": None}


def parse_deleted(raw: object) -> DeletedDeal:
    """One item of Get Deleted Records; raises ValueError with a reason when it is unusable."""
    if not isinstance(raw, dict):
        raise ValueError(f"deleted record {raw!r} is not an object")
    zoho_id = raw.get("id")
    if not isinstance(zoho_id, str) or not _ZOHO_ID.match(zoho_id):
        raise ValueError(f"deleted record id {zoho_id!r} is not a Zoho id")
    deleted_time = parse_zoho_datetime(raw.get("deleted_time"))
    deletion_type = "permanent" if raw.get("type") == "permanent" else "recycle"
    return DeletedDeal(zoho_id=zoho_id, deleted_time=deleted_time, deletion_type=deletion_type)


def wire_value(attribute: str, value: object) -> object:
    """A Python value as Zoho expects it in an update; Decimals stay Decimal (see client.py)."""
    if value is None or isinstance(value, (str, int, Decimal)):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, datetime):
        return format_zoho_datetime(value)
    raise TypeError(f"cannot send {type(value).__name__} for {attribute} to Zoho")


_FORECAST_TYPES = {
    "open": ForecastType.OPEN,
    "closed won": ForecastType.CLOSED_WON,
    "closed lost": ForecastType.CLOSED_LOST,
}


def _forecast_category(raw: object) -> str:
    """Zoho's forecast category of a stage: `{"name": "Best Case", "id": ...}` or a plain
    name; "" when absent or unreadable."""
    name = raw.get("name") if isinstance(raw, dict) else raw
    return name.strip()[:MAX_TEXT_LENGTH] if isinstance(name, str) else ""


def parse_stage_metadata(body: object, *, stage_api_name: str) -> list[CrmStageRecord]:
    """The Stage picklist of Get Fields (module Deals): each value with its forecast type.

    Values without a forecast type Pipeline Pulse knows are left out: their deals fall back
    on the probability, as if the metadata could not be read.
    """
    fields = body.get("fields") if isinstance(body, dict) else None
    if not isinstance(fields, list):
        raise ValueError("the answer has no `fields` list")
    stage = next(
        (f for f in fields if isinstance(f, dict) and f.get("api_name") == stage_api_name), None
    )
    values = stage.get("pick_list_values") if stage else None
    if not isinstance(values, list):
        raise ValueError(f"the answer has no {stage_api_name} picklist")
    stages = []
    for value in values:
        if not isinstance(value, dict):
            continue
        name = value.get("actual_value") or value.get("display_value")
        forecast = _FORECAST_TYPES.get(str(value.get("forecast_type", "")).strip().lower())
        probability = value.get("probability")
        if not isinstance(name, str) or not name.strip() or forecast is None:
            continue
        valid_probability = isinstance(probability, int) and 0 <= probability <= 100
        sequence = value.get("sequence_number")
        valid_sequence = type(sequence) is int and sequence >= 0
        stages.append(
            CrmStageRecord(
                name=name.strip()[:MAX_TEXT_LENGTH],
                forecast_type=forecast,
                probability=probability if valid_probability else None,
                forecast_category=_forecast_category(value.get("forecast_category")),
                sequence_number=sequence if valid_sequence else None,
            )
        )
    return stages
