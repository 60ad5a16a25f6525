"""How a Zoho stage places a deal in the O2R lifecycle: the admins' mapping, and what the CRM
itself says about its stages."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from opportunities.models.choices import (
    OPEN_FORECAST_CATEGORIES,
    ForecastType,
    Outcome,
    Phase,
)
from pipeline_pulse.models import AuditedModel, TimeStampedModel

OPEN_FORECAST_VALUES = [category.value for category in OPEN_FORECAST_CATEGORIES]


class StageMapping(AuditedModel):
    """How a Zoho stage places a deal in the O2R lifecycle: the admins' mapping, and what the CRM
    itself says about its stages."""

    stage = models.CharField(max_length=120, help_text="The Zoho stage, exactly as Zoho names it.")
    phase = models.PositiveSmallIntegerField(
        choices=Phase.choices,
        null=True,
        blank=True,
        help_text="Empty for a lost stage: a lost deal keeps the phase it had reached.",
    )
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.OPEN)
    forecast_category = models.CharField(
        max_length=12,
        choices=[(c.value, c.label) for c in OPEN_FORECAST_CATEGORIES],
        blank=True,
        help_text="The forecast category of this stage's open deals. Empty: Zoho's forecast "
        "category of the stage, else the deal's probability (80+ Commit, 50-79 Best case, "
        "below 50 Pipeline). Set it for a stage whose Zoho category is a custom one.",
    )

    class Meta:
        ordering = ["phase", "stage"]
        constraints = [
            models.UniqueConstraint(Lower("stage"), name="stage_mapping_stage_ci_unique"),
            models.CheckConstraint(
                condition=Q(
                    forecast_category__in=["", *(c.value for c in OPEN_FORECAST_CATEGORIES)]
                ),
                name="stage_mapping_forecast_category_valid",
            ),
            models.CheckConstraint(
                condition=Q(phase__isnull=True) | Q(phase__gte=1, phase__lte=4),
                name="stage_mapping_phase_1_to_4",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values), name="stage_mapping_outcome_valid"
            ),
            # Only a lost stage may leave the phase as it was.
            models.CheckConstraint(
                condition=Q(phase__isnull=False) | Q(outcome=Outcome.LOST),
                name="stage_mapping_phase_required_unless_lost",
            ),
        ]

    def __str__(self) -> str:
        phase = self.get_phase_display() if self.phase else "phase kept"
        return f"{self.stage} → {phase} ({self.get_outcome_display()})"


class CrmStage(TimeStampedModel):
    """A stage of the CRM's deal pipeline as the CRM describes it (Zoho's Stage picklist).

    Read at each sync when the org lets us (its settings scope); it decides the outcome of a
    stage no admin has mapped, so a custom lost stage is not an open deal.
    """

    name = models.CharField(max_length=120)
    forecast_type = models.CharField(max_length=12, choices=ForecastType.choices)
    probability = models.PositiveSmallIntegerField(null=True, blank=True)
    forecast_category = models.CharField(
        max_length=120,
        blank=True,
        help_text="Zoho's forecast category of the stage, as Zoho names it (Pipeline, Best "
        "Case, Committed, or an org's own); empty when Zoho gives none.",
    )
    sequence_number = models.PositiveIntegerField(
        null=True, blank=True, help_text="The stage's place in Zoho's pipeline."
    )

    class Meta:
        verbose_name = "CRM stage"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="crm_stage_name_ci_unique"),
            models.CheckConstraint(
                condition=Q(forecast_type__in=ForecastType.values),
                name="crm_stage_forecast_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_forecast_type_display()})"
