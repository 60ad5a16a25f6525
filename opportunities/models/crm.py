"""The CRM's people and customers: Zoho users who own deals, and the accounts deals are with."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from pipeline_pulse.models import TimeStampedModel

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser


class CrmUserQuerySet(models.QuerySet["CrmUser"]):
    def for_login(self, user: AbstractBaseUser | AnonymousUser) -> CrmUser | None:
        """The Zoho user a login stands for, matched by e-mail (case-insensitively)."""
        email = getattr(user, "email", "")
        if not user.is_authenticated or not email:
            return None
        return self.filter(email__iexact=email).first()


class CrmUser(TimeStampedModel):
    """A Zoho user who owns deals; a login is linked to it by e-mail."""

    zoho_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True, db_index=True)

    objects = CrmUserQuerySet.as_manager()

    class Meta:
        verbose_name = "CRM user"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name or self.email or self.zoho_id


class Account(TimeStampedModel):
    """A Zoho account (the customer a deal is with)."""

    zoho_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200, db_index=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
