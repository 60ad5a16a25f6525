"""The opportunities app's models, one module per concept; import them from here."""

from opportunities.deal_fields import MILESTONE_FIELDS
from opportunities.models.choices import (
    ChangeKind,
    ForecastType,
    HealthStatus,
    Outcome,
    Phase,
    SnapshotDimension,
    SnapshotSource,
    TransitionCause,
)
from opportunities.models.conflicts import Conflict, ConflictResolution, ConflictStatus
from opportunities.models.crm import Account, CrmUser
from opportunities.models.deals import (
    HEALTH_ORDER,
    IN_PLAY_OUTCOMES,
    NOT_CONVERTED,
    Opportunity,
    OpportunityQuerySet,
    revenue_not_recognised,
)
from opportunities.models.history import ChangeEvent, ChangeEventQuerySet, PhaseTransition
from opportunities.models.snapshots import PipelineSnapshot
from opportunities.models.stages import CrmStage, StageMapping
from opportunities.models.thresholds import HealthThresholds

__all__ = [
    "HEALTH_ORDER",
    "IN_PLAY_OUTCOMES",
    "MILESTONE_FIELDS",
    "NOT_CONVERTED",
    "Account",
    "ChangeEvent",
    "ChangeEventQuerySet",
    "ChangeKind",
    "Conflict",
    "ConflictResolution",
    "ConflictStatus",
    "CrmStage",
    "CrmUser",
    "ForecastType",
    "HealthStatus",
    "HealthThresholds",
    "Opportunity",
    "OpportunityQuerySet",
    "Outcome",
    "Phase",
    "PhaseTransition",
    "PipelineSnapshot",
    "SnapshotDimension",
    "SnapshotSource",
    "StageMapping",
    "TransitionCause",
    "revenue_not_recognised",
]
