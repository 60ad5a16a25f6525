"""The alerts in the admin: each condition, whether it holds, and when Admins were told."""

from __future__ import annotations

from django.contrib import admin

from alerts.models import AlertState
from pipeline_pulse.admin import ReadOnlyModelAdmin


@admin.register(AlertState)
class AlertStateAdmin(ReadOnlyModelAdmin):
    list_display = ("kind", "active", "since", "sent_at", "cleared_at", "recipients")
    list_filter = ("active",)
    fields = ("kind", "active", "since", "sent_at", "cleared_at", "recipients", "detail")
    readonly_fields = fields
