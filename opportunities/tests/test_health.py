"""The health rules at their boundaries: the day before, on and after each threshold."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from opportunities.health_rules import DealFacts, Health, health_evaluate
from opportunities.models import HealthThresholds

TODAY = date(2026, 6, 15)
SGT = ZoneInfo("Asia/Singapore")
DEFAULTS = HealthThresholds()

# An open deal nothing is wrong with: closes in a month, phase 2, recently touched in Zoho.
HEALTHY = DealFacts(
    id=1,
    outcome="open",
    phase=2,
    probability=40,
    amount=Decimal("50000.00"),
    currency="USD",
    amount_sgd=Decimal("67000.00"),
    fx_problem="",
    closing_date=TODAY + timedelta(days=30),
    closing_date_push_count=0,
    zoho_modified_time=datetime(2026, 6, 10, 9, 0, tzinfo=SGT),
    proposal_submitted_on=None,
    po_received_on=None,
    kickoff_on=None,
    invoiced_on=None,
    payment_received_on=None,
    revenue_recognised_on=None,
)
WON = replace(HEALTHY, outcome="won", phase=4, probability=100)


def evaluate(deal: DealFacts, thresholds: HealthThresholds = DEFAULTS) -> Health:
    return health_evaluate(deal, today=TODAY, thresholds=thresholds)


def codes(health: Health) -> list[str]:
    return [reason.code for reason in health.reasons]


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def test_a_deal_with_nothing_wrong_is_success_without_reasons() -> None:
    assert evaluate(HEALTHY) == Health("success", ())


# --- Danger ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("days_past", "fires"), [(-1, False), (0, False), (1, True)])
def test_open_deal_whose_closing_date_has_passed(days_past: int, fires: bool) -> None:
    health = evaluate(replace(HEALTHY, closing_date=days_ago(days_past), phase=3))
    assert ("closing_date_passed" in codes(health)) is fires
    if fires:
        assert health.status == "danger"
        assert health.reasons[0].message == "Closing date passed 1 day ago (2026-06-14)"


def test_closing_date_message_counts_the_days() -> None:
    health = evaluate(replace(HEALTHY, closing_date=days_ago(12), phase=3))
    assert health.reasons[0].message.startswith("Closing date passed 12 days ago")


def test_a_won_deal_is_never_overdue() -> None:
    assert evaluate(replace(WON, closing_date=days_ago(90))) == Health("success", ())


@pytest.mark.parametrize(("age", "fires"), [(29, False), (30, False), (31, True)])
def test_proposal_without_po(age: int, fires: bool) -> None:
    deal = replace(HEALTHY, phase=3, proposal_submitted_on=days_ago(age))
    health = evaluate(deal)
    assert ("proposal_without_po" in codes(health)) is fires
    assert health.status == ("danger" if fires else "success")
    with_po = evaluate(replace(deal, po_received_on=days_ago(1), phase=4))
    assert "proposal_without_po" not in codes(with_po)


def test_proposal_message_gives_age_and_limit() -> None:
    health = evaluate(replace(HEALTHY, phase=3, proposal_submitted_on=days_ago(31)))
    assert health.reasons[0].message == (
        "Proposal submitted 31 days ago and no PO yet (limit 30 days)"
    )


@pytest.mark.parametrize("deal", [HEALTHY, WON], ids=["open", "won"])
@pytest.mark.parametrize(("age", "fires"), [(44, False), (45, False), (46, True)])
def test_invoice_without_payment_applies_to_open_and_won(
    deal: DealFacts, age: int, fires: bool
) -> None:
    invoiced = replace(
        deal,
        phase=4,
        po_received_on=days_ago(200),
        kickoff_on=days_ago(150),
        invoiced_on=days_ago(age),
    )
    health = evaluate(invoiced)
    assert ("invoice_without_payment" in codes(health)) is fires
    assert health.status == ("danger" if fires else "success")
    assert evaluate(replace(invoiced, payment_received_on=days_ago(1))).status == "success"


# --- Warning -----------------------------------------------------------------------------------


@pytest.mark.parametrize("deal", [HEALTHY, WON], ids=["open", "won"])
@pytest.mark.parametrize(("age", "fires"), [(13, False), (14, False), (15, True)])
def test_po_without_kickoff(deal: DealFacts, age: int, fires: bool) -> None:
    health = evaluate(replace(deal, phase=4, probability=100, po_received_on=days_ago(age)))
    assert ("po_without_kickoff" in codes(health)) is fires
    assert health.status == ("warning" if fires else "success")


@pytest.mark.parametrize(("age", "fires"), [(59, False), (60, False), (61, True)])
def test_kickoff_without_invoice(age: int, fires: bool) -> None:
    health = evaluate(replace(WON, po_received_on=days_ago(100), kickoff_on=days_ago(age)))
    assert ("kickoff_without_invoice" in codes(health)) is fires
    if fires:
        assert health.reasons[0].message == (
            "Kicked off 61 days ago and not invoiced yet (limit 60 days)"
        )


@pytest.mark.parametrize(("probability", "fires"), [(79, False), (80, True), (81, True)])
def test_high_probability_without_po(probability: int, fires: bool) -> None:
    health = evaluate(replace(HEALTHY, phase=3, probability=probability))
    assert ("high_probability_without_po" in codes(health)) is fires
    assert health.status == ("warning" if fires else "success")
    with_po = replace(HEALTHY, phase=4, probability=probability, po_received_on=days_ago(1))
    assert "high_probability_without_po" not in codes(evaluate(with_po))


def test_a_won_deal_is_not_chased_for_its_po_by_probability() -> None:
    assert evaluate(WON).status == "success"


@pytest.mark.parametrize(("probability", "fires"), [(19, True), (20, True), (21, False)])
def test_low_probability_but_kicked_off(probability: int, fires: bool) -> None:
    deal = replace(
        HEALTHY,
        phase=4,
        probability=probability,
        po_received_on=days_ago(10),
        kickoff_on=days_ago(2),
    )
    health = evaluate(deal)
    assert ("low_probability_kicked_off" in codes(health)) is fires


def test_a_kickoff_planned_for_later_is_not_a_kickoff_yet() -> None:
    planned = replace(HEALTHY, probability=10, kickoff_on=TODAY + timedelta(days=3))
    assert "low_probability_kicked_off" not in codes(evaluate(planned))
    on_the_day = replace(planned, kickoff_on=TODAY)
    assert "low_probability_kicked_off" in codes(evaluate(on_the_day))


@pytest.mark.parametrize(("pushes", "fires"), [(1, False), (2, True), (3, True)])
def test_closing_date_pushed_out_repeatedly(pushes: int, fires: bool) -> None:
    health = evaluate(replace(HEALTHY, closing_date_push_count=pushes))
    assert ("closing_date_pushed" in codes(health)) is fires
    if fires:
        assert health.reasons[0].message.startswith(f"Closing date pushed out {pushes} times")


@pytest.mark.parametrize(("idle", "fires"), [(20, False), (21, False), (22, True)])
def test_no_change_in_zoho(idle: int, fires: bool) -> None:
    modified = datetime.combine(days_ago(idle), datetime.min.time(), tzinfo=SGT)
    health = evaluate(replace(HEALTHY, zoho_modified_time=modified))
    assert ("no_recent_change" in codes(health)) is fires


def test_no_change_counts_singapore_days_of_a_utc_timestamp() -> None:
    # 16:30 UTC on 24 May is already 25 May in Singapore: 21 days before 15 June, not 22.
    modified = datetime(2026, 5, 24, 16, 30, tzinfo=ZoneInfo("UTC"))
    assert "no_recent_change" not in codes(evaluate(replace(HEALTHY, zoho_modified_time=modified)))
    a_minute_earlier = datetime(2026, 5, 24, 15, 59, tzinfo=ZoneInfo("UTC"))
    stale = evaluate(replace(HEALTHY, zoho_modified_time=a_minute_earlier))
    assert "no_recent_change" in codes(stale)


@pytest.mark.parametrize(
    ("days_left", "phase", "fires"),
    [(8, 2, False), (7, 2, True), (6, 1, True), (0, 1, True), (7, 3, False), (-1, 2, False)],
)
def test_closing_soon_while_still_in_phase_1_or_2(days_left: int, phase: int, fires: bool) -> None:
    deal = replace(HEALTHY, phase=phase, closing_date=TODAY + timedelta(days=days_left))
    assert ("closing_soon_early_phase" in codes(evaluate(deal))) is fires


def test_closing_today_in_phase_1_says_so() -> None:
    health = evaluate(replace(HEALTHY, phase=1, closing_date=TODAY))
    assert health.reasons[0].message == (
        "Closes today but still in phase 1 (Opportunity) (window 7 days)"
    )


def test_sales_rules_do_not_apply_to_won_deals() -> None:
    won = replace(
        WON,
        probability=10,
        closing_date=days_ago(5),
        closing_date_push_count=5,
        zoho_modified_time=datetime(2025, 1, 1, tzinfo=SGT),
        proposal_submitted_on=days_ago(300),
        phase=2,
    )
    assert evaluate(won) == Health("success", ())


# --- Neutral -----------------------------------------------------------------------------------


def test_lost_deal_is_neutral_whatever_else() -> None:
    lost = replace(HEALTHY, outcome="lost", closing_date=days_ago(40), amount=None)
    health = evaluate(lost)
    assert health.status == "neutral"
    assert codes(health) == ["lost"]


@pytest.mark.parametrize(
    ("change", "expected_codes"),
    [
        ({"amount": None, "amount_sgd": None}, ["no_amount"]),
        ({"amount_sgd": None}, ["no_sgd_amount"]),
        ({"amount_sgd": None, "fx_problem": "no_rate", "currency": "CHF"}, ["no_rate"]),
        ({"amount_sgd": None, "fx_problem": "too_large"}, ["amount_too_large"]),
        ({"closing_date": None}, ["no_closing_date"]),
        (
            {"amount": None, "amount_sgd": None, "closing_date": None},
            ["no_amount", "no_closing_date"],
        ),
    ],
)
def test_missing_data_is_neutral_and_says_what_is_missing(
    change: dict[str, object], expected_codes: list[str]
) -> None:
    # Overdue by its data otherwise: missing data wins, no other rule is checked.
    deal = replace(HEALTHY, probability=90, closing_date_push_count=4, **change)  # type: ignore[arg-type]
    health = evaluate(deal)
    assert health.status == "neutral"
    assert codes(health) == expected_codes
    assert all(reason.severity == "neutral" for reason in health.reasons)


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("no_rate", "No exchange rate for CHF: the amount has no SGD value"),
        ("too_large", "Amount too large to convert to SGD"),
        ("rate_too_small", "The CHF rate is too small to convert"),
        ("no_currency", "No currency in Zoho"),
    ],
)
def test_neutral_names_the_actual_cause(problem: str, message: str) -> None:
    health = evaluate(replace(HEALTHY, currency="CHF", amount_sgd=None, fx_problem=problem))
    assert [reason.message for reason in health.reasons] == [message]


def test_zero_amount_is_enough_data() -> None:
    assert evaluate(replace(HEALTHY, amount=Decimal(0), amount_sgd=Decimal(0))).status == "success"


# --- Aggregation -------------------------------------------------------------------------------


def test_worst_state_wins_and_reasons_are_listed_worst_first() -> None:
    deal = replace(
        HEALTHY,
        phase=3,
        probability=90,
        closing_date=days_ago(3),
        closing_date_push_count=2,
        proposal_submitted_on=days_ago(40),
    )
    health = evaluate(deal)
    assert health.status == "danger"
    assert codes(health) == [
        "closing_date_passed",
        "proposal_without_po",
        "high_probability_without_po",
        "closing_date_pushed",
    ]
    assert [reason.severity for reason in health.reasons] == [
        "danger",
        "danger",
        "warning",
        "warning",
    ]


def test_realisation_danger_outranks_sales_warnings_on_an_open_deal() -> None:
    deal = replace(
        HEALTHY,
        phase=4,
        closing_date_push_count=3,
        po_received_on=days_ago(120),
        kickoff_on=days_ago(100),
        invoiced_on=days_ago(50),
    )
    health = evaluate(deal)
    assert health.status == "danger"
    assert codes(health) == ["invoice_without_payment", "closing_date_pushed"]


def test_warnings_only_give_warning() -> None:
    health = evaluate(replace(HEALTHY, closing_date_push_count=2, probability=85))
    assert health.status == "warning"
    assert codes(health) == ["high_probability_without_po", "closing_date_pushed"]


def test_reasons_serialise_as_code_severity_message() -> None:
    health = evaluate(replace(HEALTHY, closing_date_push_count=2))
    assert health.reasons_as_dicts() == [
        {
            "code": "closing_date_pushed",
            "severity": "warning",
            "message": "Closing date pushed out 2 times (flagged from 2)",
        }
    ]


def test_thresholds_are_read_from_the_thresholds_given() -> None:
    strict = HealthThresholds(proposal_without_po_days=10, closing_date_pushes=1)
    deal = replace(HEALTHY, phase=3, proposal_submitted_on=days_ago(11), closing_date_push_count=1)
    assert evaluate(deal).status == "success"
    assert codes(evaluate(deal, strict)) == ["proposal_without_po", "closing_date_pushed"]


def test_a_later_milestone_counts_as_evidence_of_the_earlier_ones() -> None:
    # Invoiced without a kick-off date entered: the kick-off happened, so no "no kick-off".
    deal = replace(WON, po_received_on=days_ago(100), invoiced_on=days_ago(10))
    assert evaluate(deal).status == "success"


def test_within_a_severity_reasons_follow_the_order_of_the_rules() -> None:
    # product.md lists Danger as: closing date passed, proposal without PO, invoice unpaid;
    # and Warning as: PO without kick-off, kick-off without invoice, probability >= 80 without
    # PO, probability <= 20 but kicked off, pushed, no change, closing soon in phase 1-2.
    danger = replace(
        HEALTHY,
        phase=4,
        closing_date=days_ago(2),
        proposal_submitted_on=days_ago(80),
        invoiced_on=days_ago(50),
    )
    assert codes(evaluate(danger)) == [
        "closing_date_passed",
        "invoice_without_payment",
    ]  # an invoice is evidence of the PO: no "proposal without PO"
    warnings = replace(
        HEALTHY,
        probability=10,
        closing_date=TODAY + timedelta(days=3),
        closing_date_push_count=2,
        zoho_modified_time=datetime(2026, 5, 1, 9, 0, tzinfo=SGT),
        kickoff_on=days_ago(61),
    )
    assert codes(evaluate(warnings)) == [
        "kickoff_without_invoice",
        "low_probability_kicked_off",
        "closing_date_pushed",
        "no_recent_change",
        "closing_soon_early_phase",
    ]
    high = replace(HEALTHY, probability=85, po_received_on=None, kickoff_on=days_ago(70))
    # Kicked off is evidence of the PO, so no "high probability without PO" here.
    assert codes(evaluate(high)) == ["kickoff_without_invoice"]
    po_then_probability = replace(HEALTHY, probability=90, proposal_submitted_on=days_ago(5))
    assert codes(evaluate(po_then_probability)) == ["high_probability_without_po"]
    both = replace(HEALTHY, probability=15, po_received_on=days_ago(20), phase=4)
    assert codes(evaluate(both)) == ["po_without_kickoff"]
