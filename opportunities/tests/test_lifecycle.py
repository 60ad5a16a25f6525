"""Phase and outcome from the stage mapping, the probability fallback and milestones."""

from datetime import date

import pytest

from opportunities.models import CrmStage
from opportunities.stage_rules import (
    Placement,
    StageRules,
    phase_from_probability,
    probability_in_stage_name,
)
from opportunities.tests.factories import StageMappingFactory

PROPOSAL_DAY = date(2026, 5, 1)
TODAY = date(2026, 6, 1)


@pytest.fixture
def rules(db: None) -> StageRules:
    StageMappingFactory.create(stage="Proposal submitted (60)", phase=3)
    return StageRules.load()


@pytest.mark.parametrize(
    ("probability", "phase"),
    [(None, 1), (0, 1), (19, 1), (20, 2), (49, 2), (50, 3), (99, 3), (100, 4)],
)
def test_probability_fallback_boundaries(probability: int | None, phase: int) -> None:
    assert phase_from_probability(probability) == phase


def test_probability_in_a_custom_stage_name() -> None:
    assert probability_in_stage_name("Proposal submitted (60)") == 60
    assert probability_in_stage_name("Verbal OK (90%)") == 90
    assert probability_in_stage_name("Qualification") is None
    assert probability_in_stage_name("Odd (250)") is None


def place(rules: StageRules, stage: str, **facts: object) -> Placement:
    values: dict[str, object] = {
        "probability": 10,
        "proposal_submitted_on": None,
        "po_received_on": None,
        "today": TODAY,
        **facts,
    }
    return rules.place(stage=stage, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stage", "placement"),
    [
        ("Qualification", Placement(1, "open", True)),
        ("needs analysis", Placement(2, "open", True)),
        ("Negotiation/Review", Placement(3, "open", True)),
        ("Closed Won", Placement(4, "won", True)),
        ("Proposal submitted (60)", Placement(3, "open", True)),
    ],
)
def test_mapped_stages(rules: StageRules, stage: str, placement: Placement) -> None:
    assert place(rules, stage) == placement


def test_unmapped_stage_falls_back_on_probability_then_on_its_name(rules: StageRules) -> None:
    assert place(rules, "Shortlisted", probability=30) == Placement(2, "open", False)
    assert place(rules, "Verbal OK (90)", probability=None) == Placement(3, "open", False)
    assert place(rules, "Signed", probability=100) == Placement(4, "won", False)
    assert not rules.is_mapped("Shortlisted")


def test_milestones_raise_the_phase_but_never_lower_it(rules: StageRules) -> None:
    assert place(rules, "Qualification", proposal_submitted_on=PROPOSAL_DAY).phase == 3
    revenue = place(rules, "Needs Analysis", po_received_on=PROPOSAL_DAY)
    assert (revenue.phase, revenue.outcome) == (4, "open")
    kept = place(rules, "Negotiation/Review", probability=80, proposal_submitted_on=PROPOSAL_DAY)
    assert kept.phase == 3


def test_a_milestone_counts_once_its_date_has_come(rules: StageRules) -> None:
    next_month = date(2026, 7, 1)
    assert place(rules, "Qualification", po_received_on=next_month).phase == 1
    assert place(rules, "Needs Analysis", proposal_submitted_on=next_month).phase == 2
    on_the_day = place(rules, "Qualification", po_received_on=TODAY)
    assert on_the_day.phase == 4


def test_lost_deal_keeps_the_phase_it_reached(rules: StageRules) -> None:
    lost = place(rules, "Closed Lost", probability=0, current_phase=3)
    assert lost == Placement(3, "lost", True)


def test_a_deal_first_seen_lost_is_placed_by_its_milestones_alone(rules: StageRules) -> None:
    with_proposal = place(
        rules, "Closed Lost to Competition", probability=0, proposal_submitted_on=PROPOSAL_DAY
    )
    assert with_proposal == Placement(3, "lost", True)
    # A probability on a lost deal says nothing about how far it got.
    assert place(rules, "Closed Lost", probability=60) == Placement(1, "lost", True)


def test_the_crms_forecast_type_decides_an_unmapped_stages_outcome(db: None) -> None:
    CrmStage.objects.create(name="Dropped by client", forecast_type="closed_lost", probability=0)
    CrmStage.objects.create(name="Signed off", forecast_type="closed_won", probability=100)
    CrmStage.objects.create(name="Verbal OK", forecast_type="open", probability=100)
    rules = StageRules.load()
    assert place(rules, "dropped by client", probability=0) == Placement(1, "lost", False)
    assert place(rules, "Dropped by client", probability=0, current_phase=3).phase == 3
    assert place(rules, "Signed off", probability=100) == Placement(4, "won", False)
    # Open by Zoho's own account, whatever its probability says.
    assert place(rules, "Verbal OK", probability=100) == Placement(3, "open", False)
    # An admin's mapping still comes first.
    StageMappingFactory.create(stage="Dropped by client", phase=2, outcome="open")
    assert place(StageRules.load(), "Dropped by client", probability=0).outcome == "open"
