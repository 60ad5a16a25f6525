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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from currency.models import ConversionProblem
from opportunities.deal_fields import HEALTH_INPUT_FIELDS
from opportunities.models import HealthStatus, HealthThresholds, Outcome, Phase
from pipeline_pulse.dates import quarter_index, quarter_label

# What the rules read from a deal: what Pipeline Pulse computed, and the catalogued CRM fields
# marked as health inputs.
DEAL_FACTS = (
    "id",
    "outcome",
    "phase",
    "amount_sgd",
    "fx_problem",
    "closing_date_push_count",
    "slipped_from",
    "slipped_at",
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
    currency: str
    amount_sgd: Decimal | None
    fx_problem: str
    closing_date: date | None
    closing_date_push_count: int
    zoho_modified_time: datetime | None
    proposal_submitted_on: date | None
    po_received_on: date | None
    kickoff_on: date | None
    invoiced_on: date | None
    payment_received_on: date | None
    revenue_recognised_on: date | None
    # The closing date before its latest move into a later quarter, and when that was.
    slipped_from: date | None = None
    slipped_at: datetime | None = None

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
    """A milestone counts once its date has come: a future date is a plan, not a fact."""
    return milestone is not None and milestone <= today


def _waiting_since(milestone: date | None, *, done: bool, today: date) -> int:
    """Days the next step has been waiting on a milestone that has come; -1 when it is not
    waiting (no milestone yet, a future one, or the next step already done)."""
    if done or milestone is None or not _reached(milestone, today):
        return -1
    return (today - milestone).days


@dataclass(frozen=True, slots=True)
class _Day:
    """One deal on one business day: what the rules ask about it, worked out once."""

    deal: DealFacts
    today: date
    limits: HealthThresholds
    paid: bool
    invoiced: bool
    kicked_off: bool
    has_po: bool

    @classmethod
    def of(cls, deal: DealFacts, today: date, limits: HealthThresholds) -> _Day:
        # A later milestone is evidence of the earlier ones, even if their dates were never
        # entered (an invoice means the kick-off and the PO happened).
        paid = _reached(deal.payment_received_on, today)
        invoiced = paid or _reached(deal.invoiced_on, today)
        kicked_off = invoiced or _reached(deal.kickoff_on, today)
        has_po = kicked_off or _reached(deal.po_received_on, today)
        return cls(deal, today, limits, paid, invoiced, kicked_off, has_po)


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
    day = _Day.of(deal, today, thresholds)
    reasons = [
        reason
        for rule, open_only in RULES
        if not (open_only and deal.outcome != Outcome.OPEN)
        if (reason := rule(day)) is not None
    ]
    # sorted() is stable: within one severity the reasons keep the order of RULES.
    reasons.sort(key=lambda reason: SEVERITY_RANK[HealthStatus(reason.severity)])
    status = HealthStatus(reasons[0].severity) if reasons else HealthStatus.SUCCESS
    return Health(status, tuple(reasons))


def _missing_data(deal: DealFacts) -> list[Reason]:
    """Why health cannot be judged: what is missing, in the deal's own terms."""
    missing = []
    if deal.amount is None:
        missing.append(Reason("no_amount", HealthStatus.NEUTRAL, "No amount in Zoho"))
    elif deal.amount_sgd is None:
        missing.append(_not_converted(deal))
    if deal.closing_date is None:
        missing.append(Reason("no_closing_date", HealthStatus.NEUTRAL, "No closing date in Zoho"))
    return missing


def _not_converted(deal: DealFacts) -> Reason:
    problem, code = deal.fx_problem, deal.currency or "the deal's currency"
    if problem == ConversionProblem.NO_RATE:
        return Reason(
            "no_rate",
            HealthStatus.NEUTRAL,
            f"No exchange rate for {code}: the amount has no SGD value",
        )
    if problem == ConversionProblem.TOO_LARGE:
        return Reason(
            "amount_too_large", HealthStatus.NEUTRAL, "Amount too large to convert to SGD"
        )
    if problem == ConversionProblem.RATE_TOO_SMALL:
        return Reason(
            "rate_too_small", HealthStatus.NEUTRAL, f"The {code} rate is too small to convert"
        )
    if problem == ConversionProblem.NO_CURRENCY:
        return Reason("no_currency", HealthStatus.NEUTRAL, "No currency in Zoho")
    return Reason("no_sgd_amount", HealthStatus.NEUTRAL, "Amount not converted to SGD yet")


# --- The rules, in product.md's order: Danger, then Warning -----------------------------------


def _closing_date_passed(day: _Day) -> Reason | None:
    closing = day.deal.closing_date
    days_left = (closing - day.today).days if closing else 0
    if closing is None or days_left >= 0:
        return None
    return Reason(
        "closing_date_passed",
        HealthStatus.DANGER,
        f"Closing date passed {_days(-days_left)} ago ({closing.isoformat()})",
    )


def _proposal_without_po(day: _Day) -> Reason | None:
    limit = day.limits.proposal_without_po_days
    age = _waiting_since(day.deal.proposal_submitted_on, done=day.has_po, today=day.today)
    if age <= limit:
        return None
    return Reason(
        "proposal_without_po",
        HealthStatus.DANGER,
        f"Proposal submitted {_days(age)} ago and no PO yet (limit {limit} days)",
    )


def _invoice_without_payment(day: _Day) -> Reason | None:
    limit = day.limits.invoice_without_payment_days
    age = _waiting_since(day.deal.invoiced_on, done=day.paid, today=day.today)
    if age <= limit:
        return None
    return Reason(
        "invoice_without_payment",
        HealthStatus.DANGER,
        f"Invoice raised {_days(age)} ago and no payment yet (limit {limit} days)",
    )


def _po_without_kickoff(day: _Day) -> Reason | None:
    limit = day.limits.po_without_kickoff_days
    age = _waiting_since(day.deal.po_received_on, done=day.kicked_off, today=day.today)
    if age <= limit:
        return None
    return Reason(
        "po_without_kickoff",
        HealthStatus.WARNING,
        f"PO received {_days(age)} ago and no kick-off yet (limit {limit} days)",
    )


def _kickoff_without_invoice(day: _Day) -> Reason | None:
    limit = day.limits.kickoff_without_invoice_days
    age = _waiting_since(day.deal.kickoff_on, done=day.invoiced, today=day.today)
    if age <= limit:
        return None
    return Reason(
        "kickoff_without_invoice",
        HealthStatus.WARNING,
        f"Kicked off {_days(age)} ago and not invoiced yet (limit {limit} days)",
    )


def _high_probability_without_po(day: _Day) -> Reason | None:
    probability, limit = day.deal.probability, day.limits.high_probability_without_po
    if day.has_po or probability is None or probability < limit:
        return None
    return Reason(
        "high_probability_without_po",
        HealthStatus.WARNING,
        f"Probability {probability}% but no PO yet (flagged from {limit}%)",
    )


def _low_probability_kicked_off(day: _Day) -> Reason | None:
    probability, limit = day.deal.probability, day.limits.low_probability_kicked_off
    if not day.kicked_off or probability is None or probability > limit:
        return None
    return Reason(
        "low_probability_kicked_off",
        HealthStatus.WARNING,
        f"Already kicked off but probability is only {probability}% (flagged at {limit}% or less)",
    )


def _closing_date_pushed(day: _Day) -> Reason | None:
    pushes, limit = day.deal.closing_date_push_count, day.limits.closing_date_pushes
    if pushes < limit:
        return None
    return Reason(
        "closing_date_pushed",
        HealthStatus.WARNING,
        f"Closing date pushed out {pushes} times (flagged from {limit})",
    )


def _slipped(day: _Day) -> Reason | None:
    """The closing date moved into a later quarter within the window, and is still in a later
    quarter than before (a date pulled back into its old quarter has not slipped)."""
    deal, window = day.deal, day.limits.slipped_within_days
    if deal.slipped_from is None or deal.slipped_at is None or deal.closing_date is None:
        return None
    slipped_on = timezone.localdate(deal.slipped_at)
    if (day.today - slipped_on).days > window or slipped_on > day.today:
        return None
    if quarter_index(deal.closing_date) <= quarter_index(deal.slipped_from):
        return None
    return Reason(
        "slipped",
        HealthStatus.WARNING,
        f"Closing date slipped from {quarter_label(deal.slipped_from)} to "
        f"{quarter_label(deal.closing_date)} on {slipped_on.day} {slipped_on:%b}",
    )


def _no_recent_change(day: _Day) -> Reason | None:
    modified, limit = day.deal.zoho_modified_time, day.limits.stale_after_days
    if modified is None:
        return None
    idle = (day.today - timezone.localdate(modified)).days
    if idle <= limit:
        return None
    return Reason(
        "no_recent_change",
        HealthStatus.WARNING,
        f"No change in Zoho for {_days(idle)} (limit {limit} days)",
    )


def _closing_soon_early_phase(day: _Day) -> Reason | None:
    deal, window = day.deal, day.limits.closing_soon_days
    if deal.closing_date is None or deal.phase > Phase.QUALIFIED:
        return None
    days_left = (deal.closing_date - day.today).days
    if not 0 <= days_left <= window:
        return None
    when = "today" if days_left == 0 else f"in {_days(days_left)}"
    return Reason(
        "closing_soon_early_phase",
        HealthStatus.WARNING,
        f"Closes {when} but still in phase {deal.phase} ({Phase(deal.phase).label}) "
        f"(window {window} days)",
    )


# Each rule with whether it applies to open deals only. Sales rules judge open deals only: a
# won deal is never "overdue" nor chased for its probability, its closing-date history or for
# sitting still in Zoho. Realisation rules (PO → kick-off → invoice → payment, and a kick-off
# on a low probability) judge open and won deals alike, since a deal can reach phase 4 on its
# PO before Zoho marks it won.
RULES: tuple[tuple[Callable[[_Day], Reason | None], bool], ...] = (
    (_closing_date_passed, True),
    (_proposal_without_po, True),
    (_invoice_without_payment, False),
    (_po_without_kickoff, False),
    (_kickoff_without_invoice, False),
    (_high_probability_without_po, True),
    (_low_probability_kicked_off, False),
    (_closing_date_pushed, True),
    (_slipped, True),
    (_no_recent_change, True),
    (_closing_soon_early_phase, True),
)
