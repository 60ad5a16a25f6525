"""Admin helpers shared by the apps."""

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest


class AuditedModelAdmin(admin.ModelAdmin):
    """Shows who created and who last changed a row; the model's service records them."""

    audit_fields = ("created_at", "created_by", "updated_at", "updated_by")

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        return (*super().get_readonly_fields(request, obj), *self.audit_fields)


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """For data owned by Zoho or written by the system: browse, filter, never edit here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
