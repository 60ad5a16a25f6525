"""The opportunities app's models, one module per concept; import them from here."""

from opportunities.deal_fields import MILESTONE_FIELDS
from opportunities.models.choices import (
    OPEN_FORECAST_CATEGORIES,
    ChangeKind,
    DealStatus,
    ForecastCategory,
    ForecastType,
    HealthStatus,
    MoveKind,
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
from opportunities.models.history import (
    ChangeEvent,
    ChangeEventQuerySet,
    PhaseTransition,
    PipelineMove,
)
from opportunities.models.signup import SignUpDomain, SignUpRole
from opportunities.models.snapshots import PipelineSnapshot
from opportunities.models.stages import CrmStage, StageMapping
from opportunities.models.thresholds import HealthThresholds

__all__ = [
    "HEALTH_ORDER",
    "IN_PLAY_OUTCOMES",
    "MILESTONE_FIELDS",
    "NOT_CONVERTED",
    "OPEN_FORECAST_CATEGORIES",
    "Account",
    "ChangeEvent",
    "ChangeEventQuerySet",
    "ChangeKind",
    "Conflict",
    "ConflictResolution",
    "ConflictStatus",
    "CrmStage",
    "CrmUser",
    "DealStatus",
    "ForecastCategory",
    "ForecastType",
    "HealthStatus",
    "HealthThresholds",
    "MoveKind",
    "Opportunity",
    "OpportunityQuerySet",
    "Outcome",
    "Phase",
    "PhaseTransition",
    "PipelineMove",
    "PipelineSnapshot",
    "SignUpDomain",
    "SignUpRole",
    "SnapshotDimension",
    "SnapshotSource",
    "StageMapping",
    "TransitionCause",
    "revenue_not_recognised",
]
