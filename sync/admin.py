"""Admin for sync runs: history with errors and skipped records, and a "sync now" button."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from pipeline_pulse.admin import ReadOnlyModelAdmin
from sync.models import SyncIssue, SyncKind, SyncRun, SyncState
from sync.services import SyncAlreadyRunning
from sync.triggers import SyncNotAllowed, sync_request


class SyncIssueInline(admin.TabularInline):
    model = SyncIssue
    fields = ("zoho_id", "severity", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0
    show_change_link = False


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyModelAdmin):
    list_display = (
        "started_at",
        "kind",
        "status",
        "trigger",
        "fetched",
        "created",
        "updated",
        "deleted",
        "skipped",
        "failed",
        "api_calls",
        "duration",
    )
    list_filter = ("status", "kind", "trigger")
    # An operator pastes the X-Request-ID from a log line or a Sentry event.
    search_fields = ("=request_id",)
    search_help_text = "Find the run a request started by its exact request id."
    date_hierarchy = "started_at"
    inlines = [SyncIssueInline]
    change_list_template = "admin/sync/syncrun/change_list.html"
    fieldsets = (
        (None, {"fields": ("kind", "status", "trigger", "triggered_by", "request_id", "error")}),
        ("Timing", {"fields": ("started_at", "finished_at", "heartbeat_at")}),
        (
            "Counts",
            {
                "fields": (
                    ("fetched", "pages", "api_calls"),
                    ("created", "updated", "unchanged"),
                    ("deleted", "skipped", "failed"),
                    "unmapped_stages",
                )
            },
        ),
        ("Watermark", {"fields": ("watermark_before", "watermark_after")}),
    )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "sync-now/",
                self.admin_site.admin_view(require_POST(self.sync_now)),
                name="sync_syncrun_sync_now",
            ),
            *super().get_urls(),
        ]

    def sync_now(self, request: HttpRequest) -> HttpResponseRedirect:
        """Queue a run on the worker; the run itself refuses to start if one is running."""
        kind = SyncKind.FULL if request.POST.get("kind") == SyncKind.FULL else SyncKind.INCREMENTAL
        try:
            message = sync_request(kind=kind, user=request.user)  # type: ignore[arg-type]
        except SyncNotAllowed as exc:
            messages.error(request, str(exc))
        except SyncAlreadyRunning as exc:
            messages.warning(request, str(exc))
        else:
            messages.success(request, message)
        return HttpResponseRedirect(reverse("admin:sync_syncrun_changelist"))


@admin.register(SyncIssue)
class SyncIssueAdmin(ReadOnlyModelAdmin):
    list_display = ("zoho_id", "severity", "reason", "run")
    list_filter = ("severity",)
    search_fields = ("zoho_id", "reason")
    list_select_related = ("run",)


@admin.register(SyncState)
class SyncStateAdmin(ReadOnlyModelAdmin):
    list_display = ("modified_watermark", "deleted_watermark", "updated_at")
