"""The numbers behind the health rules, kept as a history of rows: the newest is in force."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


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
    slipped_within_days = _days(
        30, "Warning: the closing date moved into a later quarter within this many days."
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
