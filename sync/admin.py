"""Admin for sync runs (history with errors and skipped records, and a "sync now" button)
and for the Zoho field mapping of the org-specific fields."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from opportunities.access import is_admin
from pipeline_pulse.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from sync.field_mappings import (
    field_mapping_remove,
    field_mapping_save,
    field_mapping_validate,
    org_fields_in_force,
)
from sync.models import (
    SyncIssue,
    SyncKind,
    SyncRun,
    SyncState,
    ZohoFieldMapping,
    ZohoWatchChannel,
)
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


NEXT_RUN = "The change applies from the next sync run; a full sync re-reads every deal."


class ZohoFieldMappingForm(forms.ModelForm):
    """Checked as the sync will read it: the same rules as ZOHO_FIELD_MAP, on the whole map."""

    class Meta:
        model = ZohoFieldMapping
        fields = ("attribute", "api_name")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        attribute = cleaned.get("attribute") or self.instance.attribute
        api_name = cleaned.get("api_name")
        if attribute and api_name:
            try:
                field_mapping_validate(attribute=attribute, api_name=api_name, pk=self.instance.pk)
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


@admin.register(ZohoFieldMapping)
class ZohoFieldMappingAdmin(AuditedModelAdmin):
    """Admins only. The list shows every org-specific field with the API name in force and
    where it comes from; rows set here override ZOHO_FIELD_MAP from the next sync run."""

    form = ZohoFieldMappingForm
    list_display = ("attribute", "api_name", "updated_at", "updated_by")
    list_select_related = ("updated_by",)
    change_list_template = "admin/sync/zohofieldmapping/change_list.html"

    def _allowed(self, request: HttpRequest) -> bool:
        return is_admin(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request) and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        # A row is one field's mapping: to map another field, add a row.
        readonly = tuple(super().get_readonly_fields(request, obj))
        return ("attribute", *readonly) if obj is not None else readonly

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        fields, problem = org_fields_in_force()
        rows = ZohoFieldMapping.objects.in_bulk(
            [field.attribute for field in fields], field_name="attribute"
        )
        add_url = reverse("admin:sync_zohofieldmapping_add")
        in_force = [
            {
                "field": field,
                "edit_url": (
                    reverse("admin:sync_zohofieldmapping_change", args=[rows[field.attribute].pk])
                    if field.attribute in rows
                    else f"{add_url}?{urlencode({'attribute': field.attribute})}"
                ),
            }
            for field in fields
        ]
        context = {
            **(extra_context or {}),
            "fields_in_force": in_force,
            "map_problem": problem,
            "can_change": self.has_change_permission(request),
        }
        return super().changelist_view(request, extra_context=context)

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        field_mapping_save(mapping=obj, user=request.user)
        self.message_user(
            request, f"{obj.get_attribute_display()} is read from {obj.api_name}. {NEXT_RUN}"
        )

    def delete_model(self, request: HttpRequest, obj: ZohoFieldMapping) -> None:
        try:
            field_mapping_remove(mapping=obj, user=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(request, f"{obj.get_attribute_display()}: removed. {NEXT_RUN}")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ZohoFieldMapping]) -> None:
        for mapping in queryset:
            self.delete_model(request, mapping)


@admin.register(ZohoWatchChannel)
class ZohoWatchChannelAdmin(ReadOnlyModelAdmin):
    """Zoho's notification channel: when it lapses, the last callback, the last error. The
    token is never shown; `manage.py zoho_watch` renews the channel now."""

    list_display = ("channel_id", "notify_url", "expires_at", "last_callback_at", "callbacks")
    fields = (
        "channel_id",
        "notify_url",
        "subscribed_at",
        "expires_at",
        "last_callback_at",
        "callbacks",
        "refused",
        "last_error",
        "last_error_at",
        "updated_at",
    )
    readonly_fields = fields
