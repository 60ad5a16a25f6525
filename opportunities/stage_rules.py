"""Where a deal sits in the O2R lifecycle: its phase and outcome, from stage and milestones."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from opportunities.models import CrmStage, ForecastType, Opportunity, Outcome, Phase, StageMapping

# "Proposal submitted (60)": orgs put the stage's probability in its name.
_PROBABILITY_IN_NAME = re.compile(r"\((\d{1,3})\s*%?\)\s*$")


@dataclass(frozen=True)
class Placement:
    phase: int
    outcome: str
    # False when no admin mapping knows the stage (the CRM's forecast type or the probability
    # placed it); such stages are listed for the admin to map.
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
    """The stage mapping and the CRM's own stage metadata, loaded once (two queries) and
    applied to many deals."""

    def __init__(
        self,
        mapping: dict[str, tuple[int | None, str]],
        forecast_types: dict[str, str] | None = None,
    ) -> None:
        # Keys are lower-cased: Zoho stage names are matched case-insensitively.
        self._mapping = mapping
        self._forecast_types = forecast_types or {}

    @classmethod
    def load(cls) -> StageRules:
        rows = StageMapping.objects.values_list("stage", "phase", "outcome")
        crm = CrmStage.objects.values_list("name", "forecast_type")
        return cls(
            {stage.strip().lower(): (phase, outcome) for stage, phase, outcome in rows},
            {name.strip().lower(): forecast for name, forecast in crm},
        )

    def is_mapped(self, stage: str) -> bool:
        return stage.strip().lower() in self._mapping

    def knows(self, stage: str) -> bool:
        """Mapped by an admin, or described by the CRM's own stage metadata."""
        key = stage.strip().lower()
        return key in self._mapping or key in self._forecast_types

    def place(
        self,
        *,
        stage: str,
        probability: int | None,
        proposal_submitted_on: date | None,
        po_received_on: date | None,
        today: date,
        current_phase: int | None = None,
    ) -> Placement:
        """Phase and outcome from the admins' mapping, else the CRM's forecast type, else the
        probability; the phase raised, never lowered, by the milestones reached by `today`.

        A milestone counts once its date has come: a PO dated next month is a plan. A lost
        deal keeps the phase it had reached (`current_phase`); one first seen lost is placed by
        its milestones alone (a lost deal's probability, Zoho's 0%, says nothing about how far
        it got), from phase 1.
        """
        key = stage.strip().lower()
        if probability is None:
            probability = probability_in_stage_name(stage)
        rule = self._mapping.get(key)
        if rule is not None:
            mapped_phase, outcome = rule
        else:
            mapped_phase, outcome = self._unmapped(key, probability)
        if mapped_phase is not None:
            phase = mapped_phase
        elif current_phase is not None:
            phase = current_phase
        else:
            phase = Phase.OPPORTUNITY
        if proposal_submitted_on is not None and proposal_submitted_on <= today:
            phase = max(phase, Phase.PROPOSAL)
        if (po_received_on is not None and po_received_on <= today) or outcome == Outcome.WON:
            phase = Phase.REVENUE
        return Placement(phase=int(phase), outcome=str(outcome), mapped=rule is not None)

    def _unmapped(self, key: str, probability: int | None) -> tuple[int | None, str]:
        """A stage no admin mapped: the CRM's forecast type decides the outcome where it is
        known; the probability gives the phase (<20 → 1, <50 → 2, <100 → 3, 100 → 4)."""
        forecast = self._forecast_types.get(key)
        if forecast == ForecastType.CLOSED_LOST:
            return None, Outcome.LOST
        if forecast == ForecastType.CLOSED_WON:
            return Phase.REVENUE, Outcome.WON
        phase = phase_from_probability(probability)
        if forecast == ForecastType.OPEN:
            return min(phase, Phase.PROPOSAL), Outcome.OPEN
        return phase, Outcome.WON if phase == Phase.REVENUE else Outcome.OPEN


def unmapped_stages() -> list[tuple[str, int]]:
    """Stages of live deals that no stage mapping knows, with their deal counts (one query).

    The sync records the count on its run; the admin lists them for mapping.
    """
    return Opportunity.objects.live().unmapped_stages()
