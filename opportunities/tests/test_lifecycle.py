"""Phase and outcome from the stage mapping, the probability fallback and milestones."""

from datetime import date

import pytest

from opportunities.stage_rules import (
    Placement,
    StageRules,
    phase_from_probability,
    probability_in_stage_name,
)
from opportunities.tests.factories import StageMappingFactory

PROPOSAL_DAY = date(2026, 5, 1)


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
    assert (
        rules.place(stage=stage, probability=10, proposal_submitted_on=None, po_received_on=None)
        == placement
    )


def test_unmapped_stage_falls_back_on_probability_then_on_its_name(rules: StageRules) -> None:
    def place(stage: str, probability: int | None) -> Placement:
        return rules.place(
            stage=stage, probability=probability, proposal_submitted_on=None, po_received_on=None
        )

    assert place("Shortlisted", 30) == Placement(2, "open", False)
    assert place("Verbal OK (90)", None) == Placement(3, "open", False)
    assert place("Signed", 100) == Placement(4, "won", False)
    assert not rules.is_mapped("Shortlisted")


def test_milestones_raise_the_phase_but_never_lower_it(rules: StageRules) -> None:
    raised = rules.place(
        stage="Qualification",
        probability=10,
        proposal_submitted_on=PROPOSAL_DAY,
        po_received_on=None,
    )
    assert raised.phase == 3
    revenue = rules.place(
        stage="Needs Analysis",
        probability=10,
        proposal_submitted_on=None,
        po_received_on=PROPOSAL_DAY,
    )
    assert (revenue.phase, revenue.outcome) == (4, "open")
    kept = rules.place(
        stage="Negotiation/Review",
        probability=80,
        proposal_submitted_on=PROPOSAL_DAY,
        po_received_on=None,
    )
    assert kept.phase == 3


def test_lost_deal_keeps_the_phase_it_reached(rules: StageRules) -> None:
    lost = rules.place(
        stage="Closed Lost",
        probability=0,
        proposal_submitted_on=None,
        po_received_on=None,
        current_phase=3,
    )
    assert lost == Placement(3, "lost", True)
    first_seen = rules.place(
        stage="Closed Lost to Competition",
        probability=0,
        proposal_submitted_on=PROPOSAL_DAY,
        po_received_on=None,
    )
    assert first_seen == Placement(3, "lost", True)
