"""Admin for deals and their reference data; Zoho-owned rows are read-only here."""

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from opportunities.models import (
    Account,
    CrmUser,
    Opportunity,
    PhaseTransition,
    StageMapping,
)
from pipeline_pulse.admin import AuditedModelAdmin, ReadOnlyModelAdmin


@admin.register(CrmUser)
class CrmUserAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "email", "zoho_id", "deal_count")
    search_fields = ("name", "email", "zoho_id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[CrmUser]:
        return super().get_queryset(request).annotate(deal_count=Count("opportunities"))

    @admin.display(description="Deals", ordering="deal_count")
    def deal_count(self, obj: CrmUser) -> int:
        return obj.deal_count  # type: ignore[attr-defined]


@admin.register(Account)
class AccountAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "zoho_id", "deal_count")
    search_fields = ("name", "zoho_id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Account]:
        return super().get_queryset(request).annotate(deal_count=Count("opportunities"))

    @admin.display(description="Deals", ordering="deal_count")
    def deal_count(self, obj: Account) -> int:
        return obj.deal_count  # type: ignore[attr-defined]


@admin.register(StageMapping)
class StageMappingAdmin(AuditedModelAdmin):
    list_display = ("stage", "phase", "outcome", "updated_at", "updated_by")
    list_editable = ("phase", "outcome")
    list_filter = ("phase", "outcome")
    search_fields = ("stage",)


class PhaseTransitionInline(admin.TabularInline):
    model = PhaseTransition
    fields = ("occurred_at", "from_phase", "to_phase", "cause", "is_backwards")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Opportunity)
class OpportunityAdmin(ReadOnlyModelAdmin):
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
    inlines = [PhaseTransitionInline]
    readonly_fields = ("days_in_phase", "is_strategic", "health_reasons_list")
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
            {
                "fields": (
                    "proposal_submitted_on",
                    "po_received_on",
                    "kickoff_on",
                    "invoiced_on",
                    "payment_received_on",
                    "revenue_recognised_on",
                )
            },
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
