"""Conflicts: a field changed both here and in Zoho to different values, and how it was settled."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from opportunities.deal_fields import FIELDS_BY_NAME
from opportunities.models.deals import Opportunity


class ConflictStatus(models.TextChoices):
    OPEN = "open", "Open: a person decides"
    RESOLVED = "resolved", "Resolved"


class ConflictResolution(models.TextChoices):
    TOOK_ZOHO = "took_zoho", "Took Zoho's value"
    KEPT_LOCAL = "kept_local", "Kept the local value (pushed to Zoho)"
    ENTERED = "entered", "Entered a value (pushed to Zoho)"


class ConflictQuerySet(models.QuerySet["Conflict"]):
    def open(self) -> ConflictQuerySet:
        return self.filter(status=ConflictStatus.OPEN)


class Conflict(models.Model):
    """One field of one deal changed on both sides: the base (last value seen from Zoho), the
    local value and Zoho's, and what was done about it. Values are kept as the JSON text the
    merge compares (ISO dates, decimal strings)."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="conflicts")
    field = models.CharField(max_length=40, help_text="The deal field (catalogue name).")
    base_value = models.JSONField(null=True, blank=True, help_text="Last value seen from Zoho.")
    local_value = models.JSONField(null=True, blank=True, help_text="Value edited here.")
    zoho_value = models.JSONField(null=True, blank=True, help_text="Zoho's value now.")
    zoho_modified_time = models.DateTimeField(null=True, blank=True)
    strategy = models.CharField(
        max_length=12, help_text="The strategy in force: crm_wins, local_wins, newest_wins, manual."
    )
    status = models.CharField(
        max_length=8, choices=ConflictStatus.choices, default=ConflictStatus.OPEN
    )
    resolution = models.CharField(max_length=12, choices=ConflictResolution.choices, blank=True)
    resolved_value = models.JSONField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when a strategy settled it.",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    detected_at = models.DateTimeField(default=timezone.now)

    objects = ConflictQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "field"],
                condition=Q(status="open"),
                name="conflict_one_open_per_deal_field",
            ),
            models.CheckConstraint(
                condition=Q(status="open", resolution="")
                | (Q(status="resolved") & ~Q(resolution="")),
                name="conflict_resolved_has_resolution",
            ),
        ]
        indexes = [models.Index(fields=["status", "detected_at"], name="conflict_status_time")]

    def __str__(self) -> str:
        return f"{self.opportunity}: {self.field} ({self.get_status_display()})"

    @property
    def field_label(self) -> str:
        """The field as the screens name it; a field no longer in the catalogue, by its name."""
        field = FIELDS_BY_NAME.get(self.field)
        return field.label if field else self.field
