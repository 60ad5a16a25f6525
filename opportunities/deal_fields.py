"""The catalogue of deal fields that come from the CRM: one list, read by everything else.

The Zoho field map (API names), the parser (one parse rule per kind), the columns the sync
writes, the merge base kept per deal, the health rules' inputs, the editable fields and the
export columns all derive from `CRM_FIELDS`. Adding a Zoho field to Pipeline Pulse means one
entry here, a model field of the same name, and a migration.

Plain data, no ORM: the Zoho client and the models both import it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType


class FieldKind(enum.StrEnum):
    """How a value is parsed from Zoho, stored, edited and exported."""

    TEXT = "text"  # a string (picklists and lookups sent as {name, id} give their name)
    PERCENT = "percent"  # a whole number from 0 to 100
    MONEY = "money"  # a non-negative Decimal with at most 2 decimals stored
    RATE = "rate"  # a positive Decimal
    CURRENCY = "currency"  # an ISO 4217 code
    DATE = "date"
    DATETIME = "datetime"
    ACCOUNT = "account"  # a lookup to a Zoho account: {name, id}
    OWNER = "owner"  # a Zoho user: {name, id, email}


@dataclass(frozen=True, slots=True)
class DealField:
    """One CRM field of a deal: its attribute name here and its API name in Zoho."""

    name: str  # attribute of Opportunity and of opportunities.records.DealRecord
    label: str
    kind: FieldKind
    zoho_api_name: str  # the default; org-specific names are configuration
    # Custom fields: every org names them differently (ZOHO_FIELD_MAP overrides them).
    org_specific: bool = False
    # Editable in Pipeline Pulse and pushed back to Zoho (product.md, "Local edits").
    editable: bool = False
    # Read by the health rules (opportunities.health_rules.DEAL_FACTS).
    health_input: bool = False
    max_length: int | None = None


def _text(
    name: str, label: str, api_name: str, *, org_specific: bool = False, editable: bool = False
) -> DealField:
    return DealField(
        name,
        label,
        FieldKind.TEXT,
        api_name,
        org_specific=org_specific,
        editable=editable,
        max_length=120,
    )


def _milestone(name: str, label: str, api_name: str) -> DealField:
    return DealField(
        name,
        label,
        FieldKind.DATE,
        api_name,
        org_specific=True,
        editable=True,
        health_input=True,
    )


CRM_FIELDS: tuple[DealField, ...] = (
    DealField("name", "Deal", FieldKind.TEXT, "Deal_Name", max_length=120),
    DealField("account", "Account", FieldKind.ACCOUNT, "Account_Name", max_length=200),
    DealField("owner", "Owner", FieldKind.OWNER, "Owner", max_length=200),
    _text("stage", "Stage", "Stage", editable=True),
    DealField(
        "probability",
        "Probability (%)",
        FieldKind.PERCENT,
        "Probability",
        editable=True,
        health_input=True,
    ),
    DealField("amount", "Amount", FieldKind.MONEY, "Amount", editable=True, health_input=True),
    DealField(
        "currency", "Currency", FieldKind.CURRENCY, "Currency", editable=True, health_input=True
    ),
    DealField("zoho_exchange_rate", "Zoho exchange rate", FieldKind.RATE, "Exchange_Rate"),
    DealField(
        "closing_date",
        "Closing date",
        FieldKind.DATE,
        "Closing_Date",
        editable=True,
        health_input=True,
    ),
    DealField("zoho_created_time", "Created in Zoho", FieldKind.DATETIME, "Created_Time"),
    DealField(
        "zoho_modified_time",
        "Modified in Zoho",
        FieldKind.DATETIME,
        "Modified_Time",
        health_input=True,
    ),
    _text("deal_type", "Type", "Type"),
    _text("lead_source", "Lead source", "Lead_Source"),
    _text("territory", "Territory", "Region", org_specific=True),
    _text("service_line", "Service line", "Solution_Type", org_specific=True),
    _text("funding_type", "Funding type", "Type_of_Funding", org_specific=True),
    _text("market_segment", "Market segment", "Market_Segment", org_specific=True),
    # The milestones, in the order revenue is realised (product.md, "O2R lifecycle").
    _milestone("proposal_submitted_on", "Proposal submitted", "Proposal_Submission_date"),
    _milestone("po_received_on", "PO received", "PO_Generation_Date"),
    _milestone("kickoff_on", "Kick-off", "Kick_off_Date"),
    _milestone("invoiced_on", "Invoiced", "Invoice_Date"),
    _milestone("payment_received_on", "Payment received", "Payment_Received_Date"),
    _milestone("revenue_recognised_on", "Revenue recognised", "OB_Recognition_Date"),
)

FIELDS_BY_NAME: Mapping[str, DealField] = MappingProxyType({f.name: f for f in CRM_FIELDS})

MILESTONE_FIELDS: tuple[str, ...] = tuple(
    field.name for field in CRM_FIELDS if field.org_specific and field.kind is FieldKind.DATE
)
DATE_FIELDS: frozenset[str] = frozenset(
    field.name for field in CRM_FIELDS if field.kind is FieldKind.DATE
)
EDITABLE_FIELDS: tuple[str, ...] = tuple(field.name for field in CRM_FIELDS if field.editable)
HEALTH_INPUT_FIELDS: tuple[str, ...] = tuple(
    field.name for field in CRM_FIELDS if field.health_input
)
LOOKUP_KINDS = frozenset({FieldKind.ACCOUNT, FieldKind.OWNER})
# Fields stored on Opportunity exactly as the CRM sends them (lookups become foreign keys).
VALUE_FIELDS: tuple[str, ...] = tuple(
    field.name for field in CRM_FIELDS if field.kind not in LOOKUP_KINDS
)

# Amount and currency are one value (product.md, "Local edits"): merged, sent, refused and
# settled together, never one from each side.
MONEY_PAIR: tuple[str, str] = ("amount", "currency")


def with_money_pair(names: Iterable[str]) -> set[str]:
    """`names`, plus the other half of the money pair when either half is among them."""
    chosen = set(names)
    if chosen & set(MONEY_PAIR):
        chosen |= set(MONEY_PAIR)
    return chosen


# Zoho's currency fields hold at most 16 digits, the 2 decimals included (its field metadata's
# `length`), and an amount travels as a JSON number, a double: 99,999,999,999,999.99 fits
# the field but no double carries it (it arrives as ...98).
ZOHO_MAX_AMOUNT = Decimal("99999999999999.99")


def zoho_number_carries(amount: Decimal) -> bool:
    """Whether the double a JSON number is prints back as exactly this amount."""
    return Decimal(repr(float(amount))) == amount
