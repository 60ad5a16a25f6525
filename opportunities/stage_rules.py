"""Where a deal sits in the O2R lifecycle: its phase and outcome, from stage and milestones."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from opportunities.models import Opportunity, Outcome, Phase, StageMapping

# "Proposal submitted (60)": orgs put the stage's probability in its name.
_PROBABILITY_IN_NAME = re.compile(r"\((\d{1,3})\s*%?\)\s*$")


@dataclass(frozen=True)
class Placement:
    phase: int
    outcome: str
    # False when no mapping knows the stage and the phase fell back on the probability;
    # such stages are listed for the admin to map.
    mapped: bool


def phase_from_probability(probability: int | None) -> int:
    """The fallback for an unmapped stage: <20 → 1, <50 → 2, <100 → 3, 100 → 4."""
    if probability is None or probability < 20:
        return Phase.OPPORTUNITY
    if probability < 50:
        return Phase.QUALIFIED
    if probability < 100:
        return Phase.PROPOSAL
    return Phase.REVENUE


def probability_in_stage_name(stage: str) -> int | None:
    match = _PROBABILITY_IN_NAME.search(stage)
    if match and int(match.group(1)) <= 100:
        return int(match.group(1))
    return None


class StageRules:
    """The stage mapping, loaded once (one query) and applied to many deals."""

    def __init__(self, mapping: dict[str, tuple[int | None, str]]) -> None:
        # Keys are lower-cased: Zoho stage names are matched case-insensitively.
        self._mapping = mapping

    @classmethod
    def load(cls) -> StageRules:
        rows = StageMapping.objects.values_list("stage", "phase", "outcome")
        return cls({stage.strip().lower(): (phase, outcome) for stage, phase, outcome in rows})

    def is_mapped(self, stage: str) -> bool:
        return stage.strip().lower() in self._mapping

    def place(
        self,
        *,
        stage: str,
        probability: int | None,
        proposal_submitted_on: date | None,
        po_received_on: date | None,
        current_phase: int | None = None,
    ) -> Placement:
        """Phase from the mapping (or the probability), raised never lowered by milestones.

        A lost deal keeps the phase it had reached (`current_phase`); one first seen lost
        is placed by its milestones and probability like any other.
        """
        if probability is None:
            probability = probability_in_stage_name(stage)
        rule = self._mapping.get(stage.strip().lower())
        outcome: str
        if rule is None:
            phase = phase_from_probability(probability)
            outcome = Outcome.WON if phase == Phase.REVENUE else Outcome.OPEN
            mapped = False
        else:
            mapped_phase, outcome = rule
            mapped = True
            if mapped_phase is not None:
                phase = mapped_phase
            elif current_phase is not None:
                phase = current_phase
            else:
                phase = phase_from_probability(probability if outcome != Outcome.LOST else None)
        if proposal_submitted_on is not None:
            phase = max(phase, Phase.PROPOSAL)
        if po_received_on is not None or outcome == Outcome.WON:
            phase = Phase.REVENUE
        return Placement(phase=int(phase), outcome=str(outcome), mapped=mapped)


def unmapped_stages() -> list[tuple[str, int]]:
    """Stages of live deals that no stage mapping knows, with their deal counts (one query).

    The sync records the count on its run; the admin lists them for mapping.
    """
    return Opportunity.objects.live().unmapped_stages()
