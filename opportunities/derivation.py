"""What Pipeline Pulse computes from a deal's CRM values: phase, outcome and SGD amount.

One function for every writer (a sync page, a local edit), so a deal's placement and its
rate lock never depend on which path wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from django.utils import timezone

from currency.conversion import SgdConversion, SgdConverter
from opportunities.models import Outcome
from opportunities.stage_rules import Placement, StageRules

FX_FIELDS = ("amount_sgd", "fx_rate", "fx_rate_as_of", "fx_rate_source", "fx_note", "fx_problem")


@dataclass(frozen=True, slots=True)
class Derived:
    placement: Placement
    conversion: SgdConversion

    def fx_values(self) -> dict[str, object]:
        return fx_values(self.conversion)


def fx_values(conversion: SgdConversion) -> dict[str, object]:
    """The Opportunity FX fields (FX_FIELDS) of a conversion, as stored."""
    return {
        "amount_sgd": conversion.amount_sgd,
        "fx_rate": conversion.rate,
        "fx_rate_as_of": conversion.rate_as_of,
        "fx_rate_source": conversion.rate_source,
        "fx_note": conversion.note[:200],
        "fx_problem": conversion.problem,
    }


CLOSED_OUTCOMES = (Outcome.WON, Outcome.LOST)


def locked_on(outcome: str, closing_date: date | None) -> date | None:
    """The day whose rate a deal's SGD amount is locked to, or None for the latest rates.

    A closed deal is locked at the rate of its closing date: won revenue does not drift with
    the market, and what was lost keeps the value it had the day it was lost. Open deals
    follow the latest rates.
    """
    return closing_date if outcome in CLOSED_OUTCOMES else None


class DerivationInputs(Protocol):
    """A deal's CRM values that decide its phase, outcome and SGD amount: an Opportunity or a
    DealRecord from the CRM alike."""

    @property
    def stage(self) -> str: ...
    @property
    def probability(self) -> int | None: ...
    @property
    def proposal_submitted_on(self) -> date | None: ...
    @property
    def po_received_on(self) -> date | None: ...
    @property
    def amount(self) -> Decimal | None: ...
    @property
    def currency(self) -> str: ...
    @property
    def closing_date(self) -> date | None: ...


def deal_derive(
    deal: DerivationInputs,
    *,
    current_phase: int | None,
    rules: StageRules,
    converter: SgdConverter,
    today: date | None = None,
) -> Derived:
    """Phase and outcome (the stage mapping raised by milestones), and the SGD amount at the
    rate the outcome calls for. `current_phase`: the deal's phase before, None for a new one."""
    placement = rules.place(
        stage=deal.stage,
        probability=deal.probability,
        proposal_submitted_on=deal.proposal_submitted_on,
        po_received_on=deal.po_received_on,
        today=today or timezone.localdate(),
        current_phase=current_phase,
    )
    conversion = converter.convert(
        deal.amount, deal.currency, locked_on=locked_on(placement.outcome, deal.closing_date)
    )
    return Derived(placement, conversion)
