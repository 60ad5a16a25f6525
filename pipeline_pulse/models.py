"""Abstract model bases shared by the apps: timestamps, and who changed a row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.utils import timezone

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


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        """Neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
        )


class TokenScope(models.TextChoices):
    """What a token may do with its login's rights: an integration that only reads should
    not carry the login's right to write."""

    READ = "read", "Read only"
    READ_WRITE = "read_write", "Read and write, as its login may"


class ApiToken(models.Model):
    """A per-user key for an integration calling the REST API as that user.

    Only a SHA-256 hash of the token is kept: the token itself is shown once, when an Admin
    creates it. The short public `prefix` finds the row without scanning the hashes. A
    revoked token stays listed for the audit trail.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text="The login the token acts as: its role decides what the token may do.",
    )
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'ERP import'.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    token_hash = models.CharField("SHA-256 of the token", max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    scope = models.CharField(
        max_length=16,
        choices=TokenScope.choices,
        default=TokenScope.READ,
        help_text="Read only: GET calls alone, whatever the login's role allows. Read and "
        "write: everything the login's role allows.",
    )
    expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="From then on the token is refused, as a revoked one is. Empty: it never "
        "expires.",
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def is_read_only(self) -> bool:
        return self.scope == TokenScope.READ


class SentEmail(models.Model):
    """A copy of a mail sent, kept by the outbox backend when EMAIL_OUTBOX is on (the demo):
    Admins read the last ones in the admin. Written only by pipeline_pulse.mail_outbox."""

    sent_at = models.DateTimeField(default=timezone.now, db_index=True)
    from_email = models.CharField(max_length=320)
    to = models.TextField(help_text="Recipients, one a line (To, Cc and Bcc).")
    subject = models.CharField(max_length=998)
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        verbose_name = "sent e-mail"

    def __str__(self) -> str:
        return f"{self.subject} → {self.to.replace(chr(10), ', ')}"
