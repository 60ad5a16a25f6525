"""E-mail domains whose people may create their own login by signing in with Zoho."""

from __future__ import annotations

import re

from django.core.validators import RegexValidator
from django.db import models

from pipeline_pulse.models import AuditedModel

# A host name: labels of letters, digits and hyphens, at least one dot.
_DOMAIN = RegexValidator(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    "Enter a domain such as example.com, without @ or spaces.",
    flags=re.IGNORECASE,
)


class SignUpRole(models.TextChoices):
    """The roles a sign-up may get; Admin is never given by domain."""

    REP = "Rep", "Rep"
    VIEWER = "Viewer", "Viewer"
    MANAGER = "Manager", "Manager"


class SignUpDomain(AuditedModel):
    """A Zoho user with a verified address at `domain` and no login gets one, with `role`."""

    domain = models.CharField(
        max_length=253,
        unique=True,
        validators=[_DOMAIN],
        help_text="The part after @, e.g. example.com. Subdomains are separate entries.",
    )
    role = models.CharField(max_length=16, choices=SignUpRole.choices, default=SignUpRole.REP)

    class Meta:
        ordering = ["domain"]
        verbose_name = "sign-up domain"

    def __str__(self) -> str:
        return f"{self.domain} ({self.role})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.domain = self.domain.strip().lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]
