"""How a deal's own values read: CRM fields, tracking fields and recorded changes.

Built on the shared formats of pipeline_pulse.display; used by the deal page, the board, the
conflict admin, the API's labels and the e-mails alike.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from opportunities.deal_fields import FIELDS_BY_NAME, FieldKind
from opportunities.merge import python_value
from opportunities.models import Opportunity, Outcome, Phase
from pipeline_pulse.display import day, local_money, moment, plain_number, sgd

_DATE_KINDS = {"closing_date_pushed", "closing_date_pulled_in"}
_SGD_KINDS = {"new"}
# Amount events keep the deal's own amount with its code ("USD 1000.00"): shown as money.
_OWN_MONEY_KINDS = {"amount_up", "amount_down", "currency_changed"}
_PHASE_KINDS = {"phase_forward", "phase_backward"}


def change_value(value: str, kind: str) -> str:
    """A change event's old or new value as people read it: a date, S$, a phase, an outcome."""
    if not value:
        return "—"
    try:
        if kind in _DATE_KINDS:
            return day(date.fromisoformat(value))
        if kind in _SGD_KINDS:
            return sgd(Decimal(value))
        if kind in _OWN_MONEY_KINDS:
            code, amount = value.split(" ", 1)
            return local_money(Decimal(amount), code)
        if kind in _PHASE_KINDS:
            return f"{value} · {Phase(int(value)).label}"
        if kind in Outcome.values or kind == "reopened":
            return str(Outcome(value).label)
    except (ValueError, ArithmeticError):
        pass  # a value recorded before its format was fixed: shown as it was stored
    return value


def crm_value(deal: Opportunity, name: str) -> str:
    """A CRM field of the deal as the screens show it (its kind from the field catalogue)."""
    value = getattr(deal, name)
    if value is None or value == "":
        return "—"
    kind = FIELDS_BY_NAME[name].kind
    if kind is FieldKind.DATE:
        return day(value)
    if kind is FieldKind.DATETIME:
        return moment(value) + " SGT"
    if kind is FieldKind.MONEY:
        return local_money(value, deal.currency)
    if kind is FieldKind.PERCENT:
        return f"{value}%"
    if kind is FieldKind.RATE:
        return plain_number(value)
    return str(value)


def field_value(deal: Opportunity, name: str, value: Any) -> str:
    """A tracking field's value (Python or its stored JSON form, e.g. a conflict's side) as
    people read it, amounts in the deal's currency."""
    if value is None or value == "":
        return "—"
    kind = FIELDS_BY_NAME[name].kind
    try:
        value = python_value(name, value)
    except (ValueError, TypeError, InvalidOperation):
        return str(value)  # kept as stored: a value that no longer parses is still shown
    if kind is FieldKind.DATE and isinstance(value, date):
        return day(value)
    if kind is FieldKind.MONEY and isinstance(value, Decimal):
        return local_money(value, deal.currency)
    if kind is FieldKind.PERCENT:
        return f"{value}%"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
