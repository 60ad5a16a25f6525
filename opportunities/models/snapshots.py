"""Daily pipeline totals by phase and by health, for the dashboard's trend."""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import Q
from django.utils import timezone

from opportunities.models.choices import HealthStatus, Phase, SnapshotDimension, SnapshotSource


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
