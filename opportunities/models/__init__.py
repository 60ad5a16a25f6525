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
from opportunities.models.preferences import EmailPreferences, SentDigest
from opportunities.models.saved_views import SavedView
from opportunities.models.signup import SignUpDomain, SignUpRole
from opportunities.models.snapshots import PipelineSnapshot
from opportunities.models.stages import CrmStage, StageMapping
from opportunities.models.territories import ManagerTerritory
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
    "EmailPreferences",
    "ForecastCategory",
    "ForecastType",
    "HealthStatus",
    "HealthThresholds",
    "ManagerTerritory",
    "MoveKind",
    "Opportunity",
    "OpportunityQuerySet",
    "Outcome",
    "Phase",
    "PhaseTransition",
    "PipelineMove",
    "PipelineSnapshot",
    "SavedView",
    "SentDigest",
    "SignUpDomain",
    "SignUpRole",
    "SnapshotDimension",
    "SnapshotSource",
    "StageMapping",
    "TransitionCause",
    "revenue_not_recognised",
]
