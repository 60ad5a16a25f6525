"""Models of the health engine: thresholds with history, change events and daily snapshots.

Import them through `opportunities.models`, which registers them with the app.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone

from opportunities.models import HealthStatus, Opportunity, Phase, TransitionCause


def start_of_day(day: date) -> datetime:
    """Midnight at the start of a Singapore business day, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))


# --- Thresholds --------------------------------------------------------------------------------


class HealthThresholdsQuerySet(models.QuerySet["HealthThresholds"]):
    def in_force(self) -> HealthThresholds:
        """The newest saved thresholds, or the product defaults when none was ever saved."""
        return self.order_by("-created_at", "-id").first() or HealthThresholds()


def _days(default: int, help_text: str) -> models.PositiveSmallIntegerField[int, int]:
    return models.PositiveSmallIntegerField(
        default=default, validators=[MaxValueValidator(3650)], help_text=help_text
    )


def _probability(default: int, help_text: str) -> models.PositiveSmallIntegerField[int, int]:
    return models.PositiveSmallIntegerField(
        default=default, validators=[MaxValueValidator(100)], help_text=help_text
    )


class HealthThresholds(models.Model):
    """The numbers behind the health rules. Rows are never edited: a change adds a new row,
    the newest is in force, and the older ones are the history of who changed what when."""

    # Danger.
    proposal_without_po_days = _days(
        30, "Danger: proposal submitted more than this many days ago and no PO."
    )
    invoice_without_payment_days = _days(
        45, "Danger: invoice raised more than this many days ago and no payment."
    )
    # Warning.
    po_without_kickoff_days = _days(
        14, "Warning: PO received more than this many days ago and no kick-off."
    )
    kickoff_without_invoice_days = _days(
        60, "Warning: kicked off more than this many days ago and no invoice."
    )
    high_probability_without_po = _probability(
        80, "Warning: probability at or above this (%) and no PO."
    )
    low_probability_kicked_off = _probability(
        20, "Warning: probability at or below this (%) but already kicked off."
    )
    closing_date_pushes = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Warning: closing date pushed out this many times or more.",
    )
    stale_after_days = _days(21, "Warning: no change in Zoho for more than this many days.")
    closing_soon_days = _days(
        7, "Warning: closing date within this many days while still in phase 1 or 2."
    )

    note = models.CharField(max_length=200, blank=True, help_text="Why the thresholds changed.")
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = HealthThresholdsQuerySet.as_manager()

    class Meta:
        verbose_name = "health thresholds"
        verbose_name_plural = "health thresholds"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(high_probability_without_po__lte=100)
                & Q(low_probability_kicked_off__lte=100),
                name="health_thresholds_probabilities_0_to_100",
            ),
            models.CheckConstraint(
                condition=Q(closing_date_pushes__gte=1),
                name="health_thresholds_pushes_at_least_1",
            ),
        ]

    def __str__(self) -> str:
        when = timezone.localtime(self.created_at).strftime("%Y-%m-%d %H:%M")
        return f"Health thresholds of {when}" if self.pk else "Default health thresholds"

    @classmethod
    def threshold_fields(cls) -> list[str]:
        return [
            field.name
            for field in cls._meta.get_fields()
            if isinstance(field, models.PositiveSmallIntegerField)
        ]

    def changes_from(self, previous: HealthThresholds | None) -> list[str]:
        """What this row changed against the one before it, e.g. "stale after days: 21 → 30"."""
        previous = previous or HealthThresholds()
        changes = []
        for name in self.threshold_fields():
            old, new = getattr(previous, name), getattr(self, name)
            if old != new:
                label = HealthThresholds._meta.get_field(name).verbose_name  # type: ignore[union-attr]
                changes.append(f"{label}: {old} → {new}")
        return changes


# --- Change events -----------------------------------------------------------------------------


class ChangeKind(models.TextChoices):
    NEW = "new", "New deal"
    CLOSING_DATE_PUSHED = "closing_date_pushed", "Closing date pushed out"
    CLOSING_DATE_PULLED_IN = "closing_date_pulled_in", "Closing date pulled in"
    AMOUNT_UP = "amount_up", "Amount up (SGD)"
    AMOUNT_DOWN = "amount_down", "Amount down (SGD)"
    PHASE_FORWARD = "phase_forward", "Phase forward"
    PHASE_BACKWARD = "phase_backward", "Phase backward"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    REOPENED = "reopened", "Reopened"


class ChangeEventQuerySet(models.QuerySet["ChangeEvent"]):
    def between(self, start: date, end: date) -> ChangeEventQuerySet:
        """Events on the Singapore business days from `start` to `end`, both included."""
        return self.filter(
            occurred_at__gte=start_of_day(start), occurred_at__lt=start_of_day(end + timedelta(1))
        )

    def since(self, day: date) -> ChangeEventQuerySet:
        """Events from the start of a Singapore business day on."""
        return self.filter(occurred_at__gte=start_of_day(day))

    def of_kind(self, *kinds: str) -> ChangeEventQuerySet:
        return self.filter(kind__in=kinds)

    def counts_by_kind(self) -> dict[str, int]:
        rows = self.order_by().values_list("kind").annotate(n=Count("id"))
        return dict(rows)


class ChangeEvent(models.Model):
    """One change to a deal that "What changed" reports: new, pushed, amount, phase, won, lost."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="change_events"
    )
    kind = models.CharField(max_length=24, choices=ChangeKind.choices)
    # Text so one column holds dates (ISO), SGD amounts (exact decimals), phases and outcomes.
    old_value = models.CharField(max_length=64, blank=True)
    new_value = models.CharField(max_length=64, blank=True)
    delta = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="SGD difference for amounts, days moved for closing dates, phases moved for "
        "phase changes, SGD amount of a new deal.",
    )
    cause = models.CharField(
        max_length=16, choices=TransitionCause.choices, default=TransitionCause.SYNC
    )
    occurred_at = models.DateTimeField(default=timezone.now)

    objects = ChangeEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["occurred_at"], name="change_event_time"),
            models.Index(fields=["kind", "occurred_at"], name="change_event_kind_time"),
            models.Index(fields=["opportunity", "occurred_at"], name="change_event_opp_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ChangeKind.values), name="change_event_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity}: {self.get_kind_display()} {self.old_value} → {self.new_value}"


# --- Daily snapshots ---------------------------------------------------------------------------


class SnapshotDimension(models.TextChoices):
    PHASE = "phase", "Phase"
    HEALTH = "health", "Health"


class SnapshotSource(models.TextChoices):
    LIVE = "live", "Taken on the day"
    RECONSTRUCTED = "reconstructed", "Reconstructed from change history"


class PipelineSnapshotQuerySet(models.QuerySet["PipelineSnapshot"]):
    def for_day(self, day: date) -> PipelineSnapshotQuerySet:
        return self.filter(day=day)

    def between(self, start: date, end: date) -> PipelineSnapshotQuerySet:
        return self.filter(day__gte=start, day__lte=end).order_by("day", "dimension", "bucket")

    def by_phase(self) -> PipelineSnapshotQuerySet:
        return self.filter(dimension=SnapshotDimension.PHASE)

    def by_health(self) -> PipelineSnapshotQuerySet:
        return self.filter(dimension=SnapshotDimension.HEALTH)


class PipelineSnapshot(models.Model):
    """One day's pipeline totals for one phase or one health state (a row set per day)."""

    day = models.DateField(help_text="Singapore business day the totals describe.")
    dimension = models.CharField(max_length=8, choices=SnapshotDimension.choices)
    bucket = models.CharField(max_length=8, help_text="The phase number or the health state.")
    deal_count = models.PositiveIntegerField(default=0)
    amount_sgd = models.DecimalField("amount (SGD)", max_digits=20, decimal_places=2)
    weighted_sgd = models.DecimalField(
        "weighted (SGD)",
        max_digits=20,
        decimal_places=2,
        help_text="Sum of amount (SGD) times probability / 100.",
    )
    without_sgd_count = models.PositiveIntegerField(
        "deals without SGD amount",
        default=0,
        help_text="Deals counted in deal count but left out of the SGD totals.",
    )
    source = models.CharField(max_length=16, choices=SnapshotSource.choices)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PipelineSnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["-day", "dimension", "bucket"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "dimension", "bucket"], name="pipeline_snapshot_one_row_per_bucket"
            ),
            models.CheckConstraint(
                condition=Q(dimension__in=SnapshotDimension.values),
                name="pipeline_snapshot_dimension_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.get_dimension_display()} {self.bucket_label}"

    @property
    def bucket_label(self) -> str:
        if self.dimension == SnapshotDimension.PHASE:
            return str(Phase(int(self.bucket)).label)
        return str(HealthStatus(self.bucket).label)
