"""Admin helpers shared by the apps."""

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.forms import ModelForm
from django.http import HttpRequest


class AuditedModelAdmin(admin.ModelAdmin):
    """Records who created and who last changed a row edited in the admin."""

    audit_fields = ("created_at", "created_by", "updated_at", "updated_by")

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        return (*super().get_readonly_fields(request, obj), *self.audit_fields)

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """For data owned by Zoho or written by the system: browse, filter, never edit here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
