"""Admin for the deals' reference data: CRM users, accounts, stage mappings, the CRM's stages,
health thresholds and snapshots."""

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, QuerySet, Subquery, Value, When, Window
from django.db.models.functions import Lag
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from opportunities.models import (
    Account,
    CrmStage,
    CrmUser,
    HealthThresholds,
    Opportunity,
    PipelineSnapshot,
    SignUpDomain,
    StageMapping,
)
from opportunities.services import (
    RederiveResult,
    health_thresholds_save,
    sign_up_domain_save,
    stage_mapping_delete,
    stage_mapping_save,
)
from pipeline_pulse.admin import AuditedModelAdmin, ReadOnlyModelAdmin


class DealCountAdmin(ReadOnlyModelAdmin):
    """Zoho reference data listed with how many deals point at each row."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(deal_count=Count("opportunities"))

    @admin.display(description="Deals", ordering="deal_count")
    def deal_count(self, obj: Any) -> int:
        return int(obj.deal_count)


@admin.register(CrmUser)
class CrmUserAdmin(DealCountAdmin):
    list_display = ("name", "email", "zoho_id", "deal_count")
    search_fields = ("name", "email", "zoho_id")


@admin.register(Account)
class AccountAdmin(DealCountAdmin):
    list_display = ("name", "zoho_id", "deal_count")
    search_fields = ("name", "zoho_id")


def _rederived_message(result: RederiveResult) -> str:
    if not result.moved:
        return f"No deal changed phase or outcome ({result.checked} checked)."
    return (
        f"{result.moved} of {result.checked} deals moved to a new phase or outcome; "
        "their transitions are recorded and their health recomputed."
    )


@admin.register(StageMapping)
class StageMappingAdmin(AuditedModelAdmin):
    """Edits go through the services, so the deals of a changed stage are placed again."""

    list_display = ("stage", "phase", "outcome", "forecast_category", "updated_at", "updated_by")
    list_editable = ("phase", "outcome", "forecast_category")
    list_filter = ("phase", "outcome", "forecast_category")
    search_fields = ("stage",)
    change_list_template = "admin/opportunities/stagemapping/change_list.html"

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        previous_stage = form.initial.get("stage") if change else None
        result = stage_mapping_save(mapping=obj, user=request.user, previous_stage=previous_stage)
        self.message_user(request, f"{obj.stage}: {_rederived_message(result)}")

    def delete_model(self, request: HttpRequest, obj: StageMapping) -> None:
        result = stage_mapping_delete(mapping=obj)
        self.message_user(request, f"{obj.stage}: {_rederived_message(result)}")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[StageMapping]) -> None:
        for mapping in queryset:
            self.delete_model(request, mapping)

    def get_urls(self) -> list[URLPattern]:
        unmapped = path(
            "unmapped/",
            self.admin_site.admin_view(self.unmapped_stages_view),
            name="opportunities_stagemapping_unmapped",
        )
        return [unmapped, *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        unmapped = Opportunity.objects.live().unmapped_stages()
        context = {**(extra_context or {}), "unmapped_stage_count": len(unmapped)}
        return super().changelist_view(request, extra_context=context)

    def unmapped_stages_view(self, request: HttpRequest) -> HttpResponse:
        """Each stage of live deals no mapping knows, its deal count and a link to map it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        add_url = reverse("admin:opportunities_stagemapping_add")
        deals_url = reverse("admin:opportunities_opportunity_changelist")
        crm = {row.name.strip().lower(): row for row in CrmStage.objects.all()}
        stages = [
            {
                "stage": stage,
                "deals": deals,
                "crm_stage": crm.get(stage.strip().lower()),
                "map_url": f"{add_url}?{urlencode({'stage': stage})}",
                "deals_url": f"{deals_url}?{urlencode({'stage__exact': stage})}",
            }
            for stage, deals in Opportunity.objects.live().unmapped_stages()
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Unmapped stages",
            "stages": stages,
            "can_add": self.has_add_permission(request),
        }
        return TemplateResponse(request, "admin/opportunities/stagemapping/unmapped.html", context)


@admin.register(CrmStage)
class CrmStageAdmin(ReadOnlyModelAdmin):
    """The CRM's own stage list, read at each sync: it decides unmapped stages' outcome."""

    list_display = (
        "name",
        "sequence_number",
        "forecast_type",
        "forecast_category",
        "probability",
        "updated_at",
    )
    list_filter = ("forecast_type", "forecast_category")
    search_fields = ("name",)


@admin.register(HealthThresholds)
class HealthThresholdsAdmin(admin.ModelAdmin):
    """Thresholds are never edited in place: saving adds a row in force from then on, and the
    list is the history of who changed what when."""

    list_display = ("created_at", "created_by", "in_force", "changes", "note")
    list_select_related = ("created_by",)
    readonly_fields = ("created_at", "created_by")

    def get_queryset(self, request: HttpRequest) -> QuerySet[HealthThresholds]:
        newest = HealthThresholds.objects.order_by("-created_at", "-id").values("pk")[:1]
        previous = {
            f"previous_{name}": Window(Lag(name), order_by=["created_at", "id"])
            for name in HealthThresholds.threshold_fields()
        }
        return (
            super()
            .get_queryset(request)
            .annotate(
                is_in_force=Case(When(pk=Subquery(newest), then=Value(True)), default=Value(False)),
                **previous,
            )
        )

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        in_force = HealthThresholds.objects.in_force()
        initial = {name: getattr(in_force, name) for name in HealthThresholds.threshold_fields()}
        return {**initial, **super().get_changeform_initial_data(request)}

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        result = health_thresholds_save(thresholds=obj, user=request.user)
        counts = ", ".join(f"{count} {status}" for status, count in result.counts().items())
        self.message_user(
            request,
            f"New thresholds in force; health recomputed for {result.deals} deals: {counts}.",
        )

    @admin.display(description="In force", boolean=True)
    def in_force(self, obj: HealthThresholds) -> bool:
        return bool(getattr(obj, "is_in_force", False))

    @admin.display(description="What changed")
    def changes(self, obj: HealthThresholds) -> str:
        fields = HealthThresholds.threshold_fields()
        previous_values = {name: getattr(obj, f"previous_{name}", None) for name in fields}
        if all(value is None for value in previous_values.values()):
            changes = obj.changes_from(None)  # the first row: against the product defaults
            return "; ".join(changes) or "Product defaults"
        changes = obj.changes_from(HealthThresholds(**previous_values))
        return "; ".join(changes) or "No change"


@admin.register(PipelineSnapshot)
class PipelineSnapshotAdmin(ReadOnlyModelAdmin):
    list_display = (
        "day",
        "dimension",
        "bucket_label",
        "deal_count",
        "amount_sgd",
        "weighted_sgd",
        "without_sgd_count",
        "source",
    )
    list_filter = ("dimension", "source", ("day", admin.DateFieldListFilter))
    date_hierarchy = "day"

    @admin.display(description="Phase or health")
    def bucket_label(self, obj: PipelineSnapshot) -> str:
        return obj.bucket_label


@admin.register(SignUpDomain)
class SignUpDomainAdmin(AuditedModelAdmin):
    """Who may create their own login with Sign in with Zoho, and with which role."""

    list_display = ("domain", "role", "updated_at", "updated_by")
    search_fields = ("domain",)
    fields = ("domain", "role", *AuditedModelAdmin.audit_fields)

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        sign_up_domain_save(entry=obj, user=request.user)
