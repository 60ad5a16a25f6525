"""Deals as a CRM hands them over: typed, parsed and validated, ready to be stored.

The Zoho client (sync.zoho) builds these from Zoho's JSON; the opportunities services accept
nothing else. Attribute names are those of the field catalogue (deal_fields.CRM_FIELDS) and of
the Opportunity model, so a record is stored without renaming.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class CrmUserRecord:
    zoho_id: str
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class AccountRecord:
    zoho_id: str
    name: str


@dataclass(frozen=True, slots=True)
class DealRecord:
    """One well-formed CRM deal, values parsed and validated (Decimal money, real dates)."""

    zoho_id: str
    name: str
    account: AccountRecord | None
    owner: CrmUserRecord | None
    stage: str
    probability: int | None
    amount: Decimal | None
    currency: str  # ISO 4217, upper case; the org's home currency when the CRM sends none
    zoho_exchange_rate: Decimal | None
    closing_date: date | None
    zoho_created_time: datetime | None
    zoho_modified_time: datetime
    deal_type: str
    lead_source: str
    territory: str
    service_line: str
    funding_type: str
    market_segment: str
    proposal_submitted_on: date | None
    po_received_on: date | None
    kickoff_on: date | None
    invoiced_on: date | None
    payment_received_on: date | None
    revenue_recognised_on: date | None


@dataclass(frozen=True, slots=True)
class CrmStageRecord:
    """A stage of the CRM's deal pipeline: its name, forecast type and default probability."""

    name: str
    forecast_type: str  # a ForecastType value
    probability: int | None
    forecast_category: str = ""  # Zoho's forecast category name, as Zoho spells it
    sequence_number: int | None = None


# Every catalogued CRM field, in catalogue order (a test holds the two together).
DEAL_RECORD_FIELDS = tuple(field.name for field in fields(DealRecord) if field.name != "zoho_id")
