"""Abstract model bases shared by the apps: timestamps, and who changed a row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser


def acting_user(user: AbstractBaseUser | AnonymousUser | None, *, required: bool = False) -> Any:
    """The login to record as the author of a change.

    None stands for the system (a sync, a schedule) or an anonymous user; where the audit
    trail must name a person (`required`), an anonymous user is refused with PermissionDenied.
    """
    if user is not None and user.is_authenticated:
        return user
    if required:
        raise PermissionDenied("This change must be made by a signed-in user.")
    return None


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditedModel(TimeStampedModel):
    """For rows people change: who created the row and who changed it last (null = the system)."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        abstract = True
