"""The health rules: a deal's facts and a business date in, a state and readable reasons out.

Pure functions, no database: the services feed them rows read with `.values(*DEAL_FACTS)`.

Which rules apply to which deals (product.md "Health"):

- lost deals are Neutral, and so is a deal missing what health needs (no amount, no closing
  date, or no SGD amount because it could not be converted); no other rule is checked then;
- sales rules apply to open deals only: a won deal is never "overdue" and is not chased for
  its probability, its closing-date history or for sitting still in Zoho;
- realisation rules (PO → kick-off → invoice → payment, and a kick-off on a low probability)
  apply to open and won deals alike, since a deal can reach phase 4 on its PO before Zoho
  marks it won.

A milestone counts once its date is on or before the business day; a later milestone is
evidence of the earlier ones (an invoice means the kick-off happened even if its date was
never entered).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from opportunities.deal_fields import HEALTH_INPUT_FIELDS
from opportunities.models import HealthStatus, HealthThresholds, Outcome, Phase

# What the rules read from a deal: what Pipeline Pulse computed, and the catalogued CRM fields
# marked as health inputs.
DEAL_FACTS = (
    "id",
    "outcome",
    "phase",
    "amount_sgd",
    "closing_date_push_count",
    *HEALTH_INPUT_FIELDS,
)

# Worst first: a deal's state is the worst of its reasons, and reasons are listed in this order.
SEVERITY_RANK = {
    HealthStatus.DANGER: 0,
    HealthStatus.WARNING: 1,
    HealthStatus.NEUTRAL: 2,
    HealthStatus.SUCCESS: 3,
}


@dataclass(frozen=True, slots=True)
class DealFacts:
    id: int
    outcome: str
    phase: int
    probability: int | None
    amount: Decimal | None
    amount_sgd: Decimal | None
    closing_date: date | None
    closing_date_push_count: int
    zoho_modified_time: datetime | None
    proposal_submitted_on: date | None
    po_received_on: date | None
    kickoff_on: date | None
    invoiced_on: date | None
    payment_received_on: date | None
    revenue_recognised_on: date | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> DealFacts:
        return cls(**{name: row[name] for name in DEAL_FACTS})


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    severity: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "message": self.message}


@dataclass(frozen=True, slots=True)
class Health:
    status: str
    reasons: tuple[Reason, ...]

    def reasons_as_dicts(self) -> list[dict[str, str]]:
        return [reason.as_dict() for reason in self.reasons]


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _reached(milestone: date | None, today: date) -> bool:
    return milestone is not None and milestone <= today


def _waiting_since(milestone: date | None, *, done: bool, today: date) -> int:
    """Days the next step has been waiting on a milestone that has come; -1 when it is not
    waiting (no milestone yet, a future one, or the next step already done)."""
    if done or milestone is None or not _reached(milestone, today):
        return -1
    return (today - milestone).days


def health_evaluate(deal: DealFacts, *, today: date, thresholds: HealthThresholds) -> Health:
    """The deal's health on the Singapore business day `today` under `thresholds`."""
    if deal.outcome == Outcome.LOST:
        return Health(
            HealthStatus.NEUTRAL,
            (Reason("lost", HealthStatus.NEUTRAL, "Deal lost: health is not tracked"),),
        )
    missing = _missing_data(deal)
    if missing:
        return Health(HealthStatus.NEUTRAL, tuple(missing))

    reasons = _realisation_reasons(deal, today, thresholds)
    if deal.outcome == Outcome.OPEN:
        reasons += _sales_reasons(deal, today, thresholds)
    # sorted() is stable: within one severity the rules keep the order of product.md.
    reasons.sort(key=lambda reason: SEVERITY_RANK[HealthStatus(reason.severity)])
    status = HealthStatus(reasons[0].severity) if reasons else HealthStatus.SUCCESS
    return Health(status, tuple(reasons))


def _missing_data(deal: DealFacts) -> list[Reason]:
    missing = []
    if deal.amount is None:
        missing.append(Reason("no_amount", HealthStatus.NEUTRAL, "No amount in Zoho"))
    elif deal.amount_sgd is None:
        missing.append(
            Reason(
                "no_sgd_amount",
                HealthStatus.NEUTRAL,
                "Amount could not be converted to SGD (no exchange rate)",
            )
        )
    if deal.closing_date is None:
        missing.append(Reason("no_closing_date", HealthStatus.NEUTRAL, "No closing date in Zoho"))
    return missing


def _realisation_reasons(deal: DealFacts, today: date, limits: HealthThresholds) -> list[Reason]:
    reasons: list[Reason] = []
    paid = _reached(deal.payment_received_on, today)
    invoiced = paid or _reached(deal.invoiced_on, today)
    kicked_off = invoiced or _reached(deal.kickoff_on, today)

    age = _waiting_since(deal.invoiced_on, done=paid, today=today)
    if age > limits.invoice_without_payment_days:
        reasons.append(
            Reason(
                "invoice_without_payment",
                HealthStatus.DANGER,
                f"Invoice raised {_days(age)} ago and no payment yet "
                f"(limit {limits.invoice_without_payment_days} days)",
            )
        )
    age = _waiting_since(deal.po_received_on, done=kicked_off, today=today)
    if age > limits.po_without_kickoff_days:
        reasons.append(
            Reason(
                "po_without_kickoff",
                HealthStatus.WARNING,
                f"PO received {_days(age)} ago and no kick-off yet "
                f"(limit {limits.po_without_kickoff_days} days)",
            )
        )
    age = _waiting_since(deal.kickoff_on, done=invoiced, today=today)
    if age > limits.kickoff_without_invoice_days:
        reasons.append(
            Reason(
                "kickoff_without_invoice",
                HealthStatus.WARNING,
                f"Kicked off {_days(age)} ago and not invoiced yet "
                f"(limit {limits.kickoff_without_invoice_days} days)",
            )
        )
    if (
        kicked_off
        and deal.probability is not None
        and deal.probability <= limits.low_probability_kicked_off
    ):
        reasons.append(
            Reason(
                "low_probability_kicked_off",
                HealthStatus.WARNING,
                f"Already kicked off but probability is only {deal.probability}% "
                f"(flagged at {limits.low_probability_kicked_off}% or less)",
            )
        )
    return reasons


def _sales_reasons(deal: DealFacts, today: date, limits: HealthThresholds) -> list[Reason]:
    reasons: list[Reason] = []
    if deal.closing_date is None:  # made Neutral by _missing_data before any rule runs
        return reasons
    # A later milestone is evidence of the PO even if its date was never entered.
    has_po = any(
        _reached(milestone, today)
        for milestone in (
            deal.po_received_on,
            deal.kickoff_on,
            deal.invoiced_on,
            deal.payment_received_on,
        )
    )
    days_left = (deal.closing_date - today).days

    if days_left < 0:
        reasons.append(
            Reason(
                "closing_date_passed",
                HealthStatus.DANGER,
                f"Closing date passed {_days(-days_left)} ago ({deal.closing_date.isoformat()})",
            )
        )
    age = _waiting_since(deal.proposal_submitted_on, done=has_po, today=today)
    if age > limits.proposal_without_po_days:
        reasons.append(
            Reason(
                "proposal_without_po",
                HealthStatus.DANGER,
                f"Proposal submitted {_days(age)} ago and no PO yet "
                f"(limit {limits.proposal_without_po_days} days)",
            )
        )
    if (
        not has_po
        and deal.probability is not None
        and deal.probability >= limits.high_probability_without_po
    ):
        reasons.append(
            Reason(
                "high_probability_without_po",
                HealthStatus.WARNING,
                f"Probability {deal.probability}% but no PO yet "
                f"(flagged from {limits.high_probability_without_po}%)",
            )
        )
    if deal.closing_date_push_count >= limits.closing_date_pushes:
        reasons.append(
            Reason(
                "closing_date_pushed",
                HealthStatus.WARNING,
                f"Closing date pushed out {deal.closing_date_push_count} times "
                f"(flagged from {limits.closing_date_pushes})",
            )
        )
    if deal.zoho_modified_time is not None:
        idle = (today - timezone.localdate(deal.zoho_modified_time)).days
        if idle > limits.stale_after_days:
            reasons.append(
                Reason(
                    "no_recent_change",
                    HealthStatus.WARNING,
                    f"No change in Zoho for {_days(idle)} (limit {limits.stale_after_days} days)",
                )
            )
    if 0 <= days_left <= limits.closing_soon_days and deal.phase <= Phase.QUALIFIED:
        when = "today" if days_left == 0 else f"in {_days(days_left)}"
        reasons.append(
            Reason(
                "closing_soon_early_phase",
                HealthStatus.WARNING,
                f"Closes {when} but still in phase {deal.phase} ({Phase(deal.phase).label}) "
                f"(window {limits.closing_soon_days} days)",
            )
        )
    return reasons
