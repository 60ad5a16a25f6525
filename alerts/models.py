"""What the alerts remember: each condition, whether it holds, and when Admins were told."""

from __future__ import annotations

from django.db import models


class AlertKind(models.TextChoices):
    SYNC_FAILING = "sync_failing", "The Zoho sync failed three times in a row"
    RATES_EXPIRED = "rates_expired", "Exchange rates expired"
    CONFLICTS_WAITING = "conflicts_waiting", "Conflicts waiting for a person for over 3 days"


class AlertState(models.Model):
    """One condition. Admins are told when it starts to hold, once; when it clears, the
    alert re-arms and tells them again the next time it holds. Written only by
    alerts.services."""

    kind = models.CharField(max_length=20, choices=AlertKind.choices, unique=True)
    active = models.BooleanField(default=False)
    since = models.DateTimeField(null=True, blank=True, help_text="When it started to hold.")
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When Admins were told.")
    cleared_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True, help_text="What the last alert said.")
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["kind"]
        verbose_name = "alert"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({'holds' if self.active else 'clear'})"
