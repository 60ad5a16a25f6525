"""Admin for deals and their history: Zoho's fields are read-only here, except the O2R tracking
fields, which an Admin edits through the same service as the deal page (pending until pushed).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from opportunities.deal_fields import EDITABLE_FIELDS
from opportunities.models import MILESTONE_FIELDS, ChangeEvent, Opportunity, PhaseTransition
from opportunities.services import health_recompute
from opportunities.services.edits import deal_edit_validate, opportunity_edit
from pipeline_pulse.admin import ReadOnlyModelAdmin


class PhaseTransitionInline(admin.TabularInline):
    model = PhaseTransition
    fields = ("occurred_at", "from_phase", "to_phase", "cause", "is_backwards")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ChangeEventInline(admin.TabularInline):
    model = ChangeEvent
    fields = ("occurred_at", "kind", "old_value", "new_value", "delta", "cause")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class OpportunityAdminForm(forms.ModelForm):
    """Checks the edited tracking fields as Zoho would, before anything is saved."""

    class Meta:
        model = Opportunity
        fields: list[str] = []

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        changes = {name: cleaned.get(name) for name in self.changed_data if name in EDITABLE_FIELDS}
        try:
            cleaned.update(deal_edit_validate(changes))
        except ValidationError as exc:
            for name, problems in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, problems)
        return cleaned


@admin.register(Opportunity)
class OpportunityAdmin(SimpleHistoryAdmin):
    """Deals as Zoho and Pipeline Pulse know them; the history shows every local change."""

    form = OpportunityAdminForm
    actions = ["recompute_health"]
    list_display = (
        "name",
        "account",
        "owner",
        "stage",
        "phase",
        "outcome",
        "health_status",
        "currency",
        "amount",
        "amount_sgd",
        "closing_date",
        "is_deleted",
    )
    list_filter = (
        "health_status",
        "phase",
        "outcome",
        "currency",
        "is_deleted",
        "territory",
        "service_line",
        ("closing_date", admin.DateFieldListFilter),
    )
    search_fields = ("zoho_id", "name", "account__name", "owner__name", "owner__email")
    list_select_related = ("account", "owner")
    date_hierarchy = "closing_date"
    inlines = [PhaseTransitionInline, ChangeEventInline]
    history_list_display = [*EDITABLE_FIELDS]
    fieldsets = (
        (
            "Deal (from Zoho)",
            {
                "fields": (
                    "zoho_id",
                    "name",
                    "account",
                    "owner",
                    "stage",
                    "probability",
                    ("amount", "currency", "zoho_exchange_rate"),
                    "closing_date",
                    ("deal_type", "lead_source"),
                    ("territory", "service_line"),
                    ("funding_type", "market_segment"),
                    ("zoho_created_time", "zoho_modified_time"),
                )
            },
        ),
        (
            "Milestones",
            {"fields": MILESTONE_FIELDS},
        ),
        (
            "SGD conversion",
            {"fields": ("amount_sgd", ("fx_rate", "fx_rate_as_of", "fx_rate_source"), "fx_note")},
        ),
        (
            "Lifecycle and health",
            {
                "fields": (
                    ("phase", "outcome"),
                    ("phase_entered_at", "days_in_phase"),
                    "health_status",
                    "health_reasons_list",
                    "health_computed_at",
                    ("closing_date_push_count", "closing_date_pull_in_count"),
                    "is_strategic",
                )
            },
        ),
        (
            "Bookkeeping",
            {
                "classes": ("collapse",),
                "fields": (
                    ("is_deleted", "deleted_at"),
                    "pending_fields",
                    "push_errors",
                    "zoho_values",
                    ("created_at", "created_by"),
                    ("updated_at", "updated_by"),
                ),
            },
        ),
    )

    @admin.display(description="Health reasons")
    def health_reasons_list(self, obj: Opportunity) -> str:
        if not obj.health_reasons:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><strong>{}</strong>: {}</li>",
                (
                    (reason.get("severity", ""), reason.get("message", ""))
                    for reason in obj.health_reasons
                ),
            ),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # deals come from Zoho

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deleted in Zoho, soft-deleted here by the sync

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        """Everything but the O2R tracking fields, which only a live deal's editors change."""
        computed = ["days_in_phase", "is_strategic", "health_reasons_list"]
        stored = [field.name for field in Opportunity._meta.concrete_fields]
        editable = set(EDITABLE_FIELDS) if self._may_edit(request, obj) else set()
        return [*computed, *(name for name in stored if name not in editable)]

    def _may_edit(self, request: HttpRequest, obj: Opportunity | None) -> bool:
        return obj is not None and not obj.is_deleted and self.has_change_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm[Any], change: bool
    ) -> None:
        changes = {
            name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE_FIELDS
        }
        if changes:
            opportunity_edit(deal=obj, user=request.user, changes=changes)
            self.message_user(
                request,
                f"Saved; {', '.join(sorted(changes))} will be sent to Zoho shortly.",
                messages.SUCCESS,
            )

    def has_recompute_permission(self, request: HttpRequest) -> bool:
        # Whoever may set the thresholds may rescore deals.
        return request.user.has_perm("opportunities.add_healththresholds")

    @admin.action(description="Recompute health of the selected deals", permissions=["recompute"])
    def recompute_health(self, request: HttpRequest, queryset: QuerySet[Opportunity]) -> None:
        result = health_recompute(opportunity_ids=list(queryset.values_list("pk", flat=True)))
        counts = ", ".join(f"{count} {status}" for status, count in result.counts().items())
        self.message_user(
            request, f"Health recomputed for {result.deals} deals: {counts}.", messages.SUCCESS
        )

    @admin.display(description="Days in phase")
    def days_in_phase(self, obj: Opportunity) -> int:
        return obj.days_in_phase

    @admin.display(description="Strategic", boolean=True)
    def is_strategic(self, obj: Opportunity) -> bool:
        return obj.is_strategic


@admin.register(PhaseTransition)
class PhaseTransitionAdmin(ReadOnlyModelAdmin):
    list_display = ("opportunity", "from_phase", "to_phase", "cause", "is_backwards", "occurred_at")
    list_filter = ("is_backwards", "cause", "to_phase")
    search_fields = ("opportunity__name", "opportunity__zoho_id")
    list_select_related = ("opportunity",)
    date_hierarchy = "occurred_at"


@admin.register(ChangeEvent)
class ChangeEventAdmin(ReadOnlyModelAdmin):
    list_display = (
        "occurred_at",
        "opportunity",
        "kind",
        "old_value",
        "new_value",
        "delta",
        "cause",
    )
    list_filter = ("kind", "cause", ("occurred_at", admin.DateFieldListFilter))
    search_fields = ("opportunity__name", "opportunity__zoho_id")
    list_select_related = ("opportunity",)
    date_hierarchy = "occurred_at"
