"""Conflicts in the admin: base, local and Zoho values side by side, and an Admin's decision.

An open conflict's page offers keep the local value (pushed to Zoho), take Zoho's, or enter a
value (checked as Zoho would, then pushed), through `conflict_resolve`; every decision is
audited. Resolved conflicts, including those a strategy settled, are kept for the record.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from opportunities.access import is_admin
from opportunities.display import field_value
from opportunities.models import Conflict, ConflictResolution, ConflictStatus
from opportunities.services.writeback import conflict_resolve


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(choices=ConflictResolution.choices, widget=forms.RadioSelect)
    value = forms.CharField(
        required=False,
        help_text="Only for “Enter another value”: a date as YYYY-MM-DD, an amount, a "
        "probability from 0 to 100, a stage as Zoho spells it.",
    )

    def __init__(self, *args: Any, conflict: Conflict, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The choices say what each does, with the value it keeps.
        deal, name = conflict.opportunity, conflict.field
        zoho = field_value(deal, name, (deal.zoho_values or {}).get(name, conflict.zoho_value))
        local = field_value(deal, name, getattr(deal, name))
        choices = [
            (ConflictResolution.KEPT_LOCAL, f"Keep the value edited here ({local}), send it"),
            (ConflictResolution.TOOK_ZOHO, f"Take Zoho's value ({zoho})"),
            (ConflictResolution.ENTERED, "Enter another value, send it to Zoho"),
        ]
        self.fields["resolution"] = forms.ChoiceField(choices=choices, widget=forms.RadioSelect)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("resolution") == ConflictResolution.ENTERED and not cleaned.get("value"):
            self.add_error("value", "Enter the value to keep.")
        return cleaned


@admin.register(Conflict)
class ConflictAdmin(SimpleHistoryAdmin):
    list_display = ("opportunity", "field_label", "status", "strategy", "resolution", "detected_at")
    list_filter = ("status", "strategy", "resolution", "field")
    search_fields = ("opportunity__name", "opportunity__zoho_id")
    list_select_related = ("opportunity",)
    date_hierarchy = "detected_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decided on the page below, never edited field by field

    @admin.display(description="Field", ordering="field")
    def field_label(self, conflict: Conflict) -> str:
        return conflict.field_label

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The conflict side by side, with the decision form while it is open."""
        conflict = self.get_object(request, object_id)
        if conflict is None or not self.has_view_permission(request, conflict):
            raise PermissionDenied
        may_resolve = is_admin(request.user) and conflict.status == ConflictStatus.OPEN
        form = ResolveForm(request.POST or None, conflict=conflict)
        if request.method == "POST":
            if not may_resolve:
                raise PermissionDenied
            if form.is_valid() and self._resolve(request, conflict, form):
                return HttpResponseRedirect(reverse("admin:opportunities_conflict_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Conflict on {conflict.opportunity}",
            "conflict": conflict,
            "field_label": self.field_label(conflict),
            "values": {
                "base": field_value(conflict.opportunity, conflict.field, conflict.base_value),
                "local": field_value(conflict.opportunity, conflict.field, conflict.local_value),
                "zoho": field_value(conflict.opportunity, conflict.field, conflict.zoho_value),
                "kept": field_value(conflict.opportunity, conflict.field, conflict.resolved_value),
            },
            "form": form if may_resolve else None,
            "deal_url": reverse(
                "admin:opportunities_opportunity_change", args=[conflict.opportunity_id]
            ),
        }
        return TemplateResponse(request, "admin/opportunities/conflict/resolve.html", context)

    def _resolve(self, request: HttpRequest, conflict: Conflict, form: ResolveForm) -> bool:
        try:
            conflict_resolve(
                conflict=conflict,
                user=request.user,
                resolution=form.cleaned_data["resolution"],
                value=form.cleaned_data.get("value") or None,
            )
        except ValidationError as exc:
            for problems in (
                exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            ).values():
                form.add_error("value", problems)
            return False
        label = ConflictResolution(form.cleaned_data["resolution"]).label
        self.message_user(request, f"{conflict.opportunity}: {label}.", messages.SUCCESS)
        return True
