"""The business's vocabulary for deals: phases, outcomes, health states and kinds of change."""

from django.db import models


class Phase(models.IntegerChoices):
    """The four phases of the Opportunity-to-Revenue lifecycle."""

    OPPORTUNITY = 1, "Opportunity"
    QUALIFIED = 2, "Qualified"
    PROPOSAL = 3, "Proposal"
    REVENUE = 4, "Revenue"


class Outcome(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class ForecastType(models.TextChoices):
    """How the CRM itself classes a stage (Zoho's forecast type)."""

    OPEN = "open", "Open"
    CLOSED_WON = "closed_won", "Closed won"
    CLOSED_LOST = "closed_lost", "Closed lost"


class ForecastCategory(models.TextChoices):
    """A deal's forecast category for the quarter it closes in (product.md, Pipeline review)."""

    CLOSED = "closed", "Closed"
    COMMIT = "commit", "Commit"
    BEST_CASE = "best_case", "Best case"
    PIPELINE = "pipeline", "Pipeline"
    OMITTED = "omitted", "Omitted"


# The categories of open deals: what a stage's forecast category may be set to.
OPEN_FORECAST_CATEGORIES = (
    ForecastCategory.COMMIT,
    ForecastCategory.BEST_CASE,
    ForecastCategory.PIPELINE,
)


class MoveKind(models.TextChoices):
    """Why a deal's pipeline state (status, closing date, SGD amount) was recorded."""

    BASELINE = "baseline", "Already in Zoho when history started"
    NEW = "new", "New deal"
    CHANGE = "change", "Changed in Zoho or here"
    FX = "fx", "Exchange rate moved"
    DELETED = "deleted", "Deleted in Zoho"


class DealStatus(models.TextChoices):
    """A deal's status in the pipeline ledger: its outcome, or deleted."""

    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    DELETED = "deleted", "Deleted"


class HealthStatus(models.TextChoices):
    SUCCESS = "success", "Success"
    WARNING = "warning", "Warning"
    DANGER = "danger", "Danger"
    NEUTRAL = "neutral", "Neutral"


class TransitionCause(models.TextChoices):
    SYNC = "sync", "Zoho sync"
    MILESTONE = "milestone", "Milestone date"
    STAGE_MAPPING = "stage_mapping", "Stage mapping changed"
    LOCAL_EDIT = "local_edit", "Edited in Pipeline Pulse"


class ChangeKind(models.TextChoices):
    NEW = "new", "New deal"
    CLOSING_DATE_PUSHED = "closing_date_pushed", "Closing date pushed out"
    CLOSING_DATE_PULLED_IN = "closing_date_pulled_in", "Closing date pulled in"
    AMOUNT_UP = "amount_up", "Amount up"
    AMOUNT_DOWN = "amount_down", "Amount down"
    CURRENCY_CHANGED = "currency_changed", "Currency changed"
    PHASE_FORWARD = "phase_forward", "Phase forward"
    PHASE_BACKWARD = "phase_backward", "Phase backward"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    REOPENED = "reopened", "Reopened"


class SnapshotDimension(models.TextChoices):
    PHASE = "phase", "Phase"
    HEALTH = "health", "Health"


class SnapshotSource(models.TextChoices):
    LIVE = "live", "Taken on the day"
    RECONSTRUCTED = "reconstructed", "Reconstructed from change history"
