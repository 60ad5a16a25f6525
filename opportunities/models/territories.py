"""Managers limited to their territories: the territory values one login may see deals of."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ManagerTerritory(models.Model):
    """One territory a Manager's login is limited to. A Manager with none sees every deal;
    with some, only deals in them (opportunities.access). Set by Admins in the admin."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="manager_territories"
    )
    territory = models.CharField(
        max_length=120, help_text="A deal territory exactly as Zoho spells it."
    )

    class Meta:
        ordering = ["user", "territory"]
        verbose_name = "manager territory"
        verbose_name_plural = "manager territories"
        constraints = [
            models.UniqueConstraint(fields=["user", "territory"], name="manager_territory_unique"),
            models.CheckConstraint(condition=~Q(territory=""), name="manager_territory_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.territory}"
