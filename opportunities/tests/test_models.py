"""The database itself rejects rows that break the domain's rules."""

from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, transaction
from pytest_django import Settings

from opportunities.models import HealthStatus, Opportunity, Outcome, PhaseTransition, StageMapping
from opportunities.tests.factories import (
    OpportunityFactory,
    PhaseTransitionFactory,
    StageMappingFactory,
)

pytestmark = pytest.mark.django_db


def _rejects(**fields: object) -> None:
    deal = OpportunityFactory.create()
    # A value too long for its column is a DataError on PostgreSQL; either way the row is refused.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Opportunity.objects.filter(pk=deal.pk).update(**fields)


@pytest.mark.parametrize("probability", [-1, 101, 250])
def test_probability_outside_0_to_100_is_rejected(probability: int) -> None:
    _rejects(probability=probability)


@pytest.mark.parametrize("probability", [0, 100, None])
def test_probability_bounds_are_accepted(probability: int | None) -> None:
    deal = OpportunityFactory.create(probability=probability)
    deal.refresh_from_db()
    assert deal.probability == probability


@pytest.mark.parametrize("field", ["amount", "amount_sgd"])
def test_negative_amounts_are_rejected(field: str) -> None:
    _rejects(**{field: Decimal("-0.01")})


def test_zero_and_missing_amounts_are_accepted() -> None:
    deal = OpportunityFactory.create(amount=Decimal("0"), amount_sgd=None)
    deal.refresh_from_db()
    assert deal.amount == Decimal("0.00")


@pytest.mark.parametrize("phase", [0, 5])
def test_phase_outside_1_to_4_is_rejected(phase: int) -> None:
    _rejects(phase=phase)


@pytest.mark.parametrize("currency", ["usd", "US", "USDX", "U5D", ""])
def test_currency_must_be_three_upper_case_letters(currency: str) -> None:
    _rejects(currency=currency)


def test_unknown_outcome_and_health_are_rejected() -> None:
    _rejects(outcome="maybe")
    _rejects(health_status="great")


def test_fx_rate_must_be_positive() -> None:
    _rejects(fx_rate=Decimal("0"))


def test_zoho_id_is_unique() -> None:
    OpportunityFactory.create(zoho_id="111")
    with pytest.raises(IntegrityError), transaction.atomic():
        OpportunityFactory.create(zoho_id="111")


def test_money_keeps_exact_decimals() -> None:
    deal = OpportunityFactory.create(amount=Decimal("45678901234.56"), currency="IDR")
    deal.refresh_from_db()
    assert deal.amount == Decimal("45678901234.56")


def test_stage_mapping_is_unique_regardless_of_case() -> None:
    StageMappingFactory.create(stage="Proposal submitted (60)")
    with pytest.raises(IntegrityError), transaction.atomic():
        StageMappingFactory.create(stage="PROPOSAL SUBMITTED (60)")


def test_stage_mapping_needs_a_phase_unless_lost() -> None:
    StageMappingFactory.create(stage="Lost to budget", phase=None, outcome=Outcome.LOST)
    with pytest.raises(IntegrityError), transaction.atomic():
        StageMappingFactory.create(stage="Parked", phase=None, outcome=Outcome.OPEN)


def test_stage_mapping_phase_outside_1_to_4_is_rejected() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        StageMappingFactory.create(phase=7)


def test_default_zoho_mapping_is_loaded() -> None:
    mapping = {row.stage: (row.phase, row.outcome) for row in StageMapping.objects.all()}
    assert mapping == {
        "Qualification": (1, Outcome.OPEN),
        "Needs Analysis": (2, Outcome.OPEN),
        "Value Proposition": (2, Outcome.OPEN),
        "Id. Decision Makers": (2, Outcome.OPEN),
        "Proposal/Price Quote": (3, Outcome.OPEN),
        "Negotiation/Review": (3, Outcome.OPEN),
        "Closed Won": (4, Outcome.WON),
        "Closed Lost": (None, Outcome.LOST),
        "Closed Lost to Competition": (None, Outcome.LOST),
    }


def test_backwards_transition_is_flagged_by_the_database() -> None:
    forward = PhaseTransitionFactory.create(from_phase=2, to_phase=3)
    backward = PhaseTransitionFactory.create(from_phase=3, to_phase=1)
    first = PhaseTransitionFactory.create(from_phase=None, to_phase=2)
    flags = dict(
        PhaseTransition.objects.filter(pk__in=[forward.pk, backward.pk, first.pk]).values_list(
            "pk", "is_backwards"
        )
    )
    assert flags == {forward.pk: False, backward.pk: True, first.pk: False}


def test_transition_phase_outside_1_to_4_is_rejected() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        PhaseTransitionFactory.create(to_phase=9)


def test_new_deal_defaults() -> None:
    deal = OpportunityFactory.create()
    assert (deal.phase, deal.outcome, deal.health_status) == (1, "open", HealthStatus.NEUTRAL)
    assert deal.health_reasons == []
    assert deal.days_in_phase == 0


@pytest.mark.parametrize(
    ("amount_sgd", "account_name", "expected"),
    [
        (Decimal("1000000.00"), "Acme", True),
        (Decimal("999999.99"), "Acme", False),
        (None, "Temasek Holdings", True),
        (Decimal("5"), "Temasek Holdings", True),
    ],
)
def test_strategic_flag_by_amount_or_listed_account(
    settings: Settings, amount_sgd: Decimal | None, account_name: str, expected: bool
) -> None:
    settings.STRATEGIC_ACCOUNTS = ["Temasek Holdings"]
    deal = OpportunityFactory.create(amount_sgd=amount_sgd, account__name=account_name)
    assert deal.is_strategic is expected
    assert Opportunity.objects.strategic().filter(pk=deal.pk).exists() is expected
