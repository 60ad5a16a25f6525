"""E-mail preferences (an Admin turns a login's weekly digest on or off) and the digests sent."""

from __future__ import annotations

from django.contrib import admin

from opportunities.models import EmailPreferences, SentDigest
from pipeline_pulse.admin import ReadOnlyModelAdmin


@admin.register(EmailPreferences)
class EmailPreferencesAdmin(admin.ModelAdmin):
    """A login without a row gets its role's default (on for Managers and Viewers)."""

    list_display = ("user", "weekly_digest", "updated_at")
    list_filter = ("weekly_digest",)
    list_editable = ("weekly_digest",)
    search_fields = ("user__username", "user__email")


@admin.register(SentDigest)
class SentDigestAdmin(ReadOnlyModelAdmin):
    list_display = ("week_start", "user", "recipient", "sent_at")
    list_filter = (("week_start", admin.DateFieldListFilter),)
    search_fields = ("user__username", "recipient")
    date_hierarchy = "week_start"
