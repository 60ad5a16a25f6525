"""What a login wants by e-mail (the weekly digest), and the digests already sent to it."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class EmailPreferences(models.Model):
    """A login's own choice of e-mails; without a row, its role's default applies (the weekly
    digest: on for Managers and Viewers, off for Reps and Admins until they turn it on)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preferences"
    )
    weekly_digest = models.BooleanField(
        "weekly digest",
        default=True,
        help_text="Monday's summary of last week's changes, deals in Danger, slipped deals "
        "and the quarter's forecast.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "e-mail preferences"
        verbose_name_plural = "e-mail preferences"

    def __str__(self) -> str:
        return f"E-mail preferences of {self.user}"


class SentDigest(models.Model):
    """One weekly digest sent to one login: at most one per login per week, whatever retries."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sent_digests"
    )
    week_start = models.DateField(help_text="The Monday (Singapore) of the week it reports on.")
    sent_at = models.DateTimeField()
    recipient = models.EmailField(help_text="The address it went to.")

    class Meta:
        ordering = ["-week_start", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "week_start"], name="sent_digest_once_a_week")
        ]

    def __str__(self) -> str:
        return f"Digest of the week of {self.week_start} to {self.user}"
