"""Admin for rates: the current rates with their staleness, the history, and overrides."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from currency.codes import is_iso_code
from currency.models import CurrentRate, ExchangeRate, RateOverride, RateSource
from currency.services import (
    fx_rates_last_refresh,
    fx_rates_status,
    rate_override_remove,
    rate_override_set,
)
from pipeline_pulse.admin import ReadOnlyModelAdmin
from pipeline_pulse.display import age_words, plain_number
from pipeline_pulse.models import acting_user


@admin.register(CurrentRate)
class CurrentRateAdmin(ReadOnlyModelAdmin):
    """One row per currency: the rate in effect, its age, and fresh / stale / expired."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        active = {override.currency: override for override in RateOverride.objects.active()}
        can_override = request.user.has_perm("currency.add_rateoverride")
        rows = [
            {
                "status": status,
                "units_per_usd": plain_number(status.units_per_usd),
                "sgd_per_unit": plain_number(status.sgd_per_unit),
                "age": age_words(status.as_of, now=now, suffix="old") if status.as_of else "—",
                "is_seed": status.source == RateSource.SEED,
                "override": active.get(status.currency),
                "override_url": (
                    reverse("admin:currency_rateoverride_add") + f"?currency={status.currency}"
                    if can_override
                    else ""
                ),
            }
            for status in fx_rates_status(now=now)
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Current exchange rates",
            "rows": rows,
            "can_override": can_override,
            "last_refresh": fx_rates_last_refresh(),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "currency/admin/current_rates.html", context)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ReadOnlyModelAdmin):
    list_display = ("currency", "units", "as_of", "source", "override", "fetched_at")
    list_filter = ("currency", "source", ("as_of", admin.DateFieldListFilter))
    search_fields = ("currency",)
    date_hierarchy = "as_of"
    list_select_related = ("override",)

    @admin.display(description="Units per USD", ordering="units_per_usd")
    def units(self, obj: ExchangeRate) -> str:
        return plain_number(obj.units_per_usd)


class ActiveOverrideFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("removed", "Removed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "active":
            return queryset.filter(removed_at__isnull=True)
        if self.value() == "removed":
            return queryset.filter(removed_at__isnull=False)
        return queryset


class RateOverrideForm(ModelForm):
    # Not a model field of the form: the model would check "one active override per
    # currency" and refuse every replacement, which the service performs by ending the
    # active one.
    currency = forms.CharField(
        min_length=3, max_length=3, help_text="ISO 4217 code of the currency, e.g. INR."
    )

    class Meta:
        model = RateOverride
        fields = ("units_per_usd", "reason")
        help_texts = {
            "units_per_usd": "Units of the currency per one US dollar, e.g. 83.25 for INR.",
        }

    def clean_currency(self) -> str:
        code = str(self.cleaned_data["currency"]).strip().upper()
        if not is_iso_code(code):
            raise ValidationError("Use a three-letter ISO 4217 code, e.g. INR.")
        return code

    def clean_units_per_usd(self) -> Decimal:
        units: Decimal = self.cleaned_data["units_per_usd"]
        if units <= 0:
            raise ValidationError("A rate must be more than zero.")
        return units

    def clean_reason(self) -> str:
        reason = str(self.cleaned_data["reason"]).strip()
        if not reason:
            raise ValidationError("Say why the rate is overridden.")
        return reason


class RemovalForm(forms.Form):
    removal_reason = forms.CharField(
        label="Reason", widget=forms.Textarea(attrs={"rows": 3}), strip=True
    )


@admin.register(RateOverride)
class RateOverrideAdmin(admin.ModelAdmin):
    form = RateOverrideForm
    list_display = (
        "currency",
        "units_per_usd",
        "state",
        "created_at",
        "created_by",
        "previous_units_per_usd",
        "previous_source",
        "removed_at",
        "removed_by",
    )
    list_filter = (ActiveOverrideFilter, "currency", ("created_at", admin.DateFieldListFilter))
    search_fields = ("currency", "reason", "removal_reason")
    list_select_related = ("created_by", "removed_by")
    readonly_fields = (
        "currency",
        "units_per_usd",
        "reason",
        "created_at",
        "created_by",
        "previous_units_per_usd",
        "previous_source",
        "previous_as_of",
        "removed_at",
        "removed_by",
        "removal_reason",
        "remove_link",
    )

    def get_fields(self, request: HttpRequest, obj: RateOverride | None = None) -> Any:
        if obj is None:
            return ("currency", "units_per_usd", "reason")
        return self.readonly_fields

    def get_readonly_fields(self, request: HttpRequest, obj: RateOverride | None = None) -> Any:
        return () if obj is None else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # removal is audited through the remove page, never a delete

    @admin.display(description="State")
    def state(self, obj: RateOverride) -> str:
        return "active" if obj.is_active else "removed"

    @admin.display(description="Remove")
    def remove_link(self, obj: RateOverride) -> str:
        if not obj.is_active:
            return "—"
        url = reverse("admin:currency_rateoverride_remove", args=[obj.pk])
        return format_html('<a class="button" href="{}">Remove this override…</a>', url)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            raise PermissionDenied  # an override is never edited: set a new one instead
        override = rate_override_set(
            currency=form.cleaned_data["currency"],
            units_per_usd=obj.units_per_usd,
            reason=obj.reason,
            user=acting_user(request.user, required=True),
        )
        # The admin's message, log entry and redirect read the saved object.
        obj.pk = override.pk
        obj.currency = override.currency
        obj.created_at = override.created_at
        obj._state.adding = False

    def get_urls(self) -> list[URLPattern]:
        remove = path(
            "<int:override_id>/remove/",
            self.admin_site.admin_view(self.remove_view),
            name="currency_rateoverride_remove",
        )
        return [remove, *super().get_urls()]

    def remove_view(self, request: HttpRequest, override_id: int) -> HttpResponse:
        override = get_object_or_404(RateOverride, pk=override_id)
        if not self.has_change_permission(request, override):
            raise PermissionDenied
        changelist = reverse("admin:currency_rateoverride_changelist")
        if not override.is_active:
            self.message_user(request, "This override was already removed.", messages.WARNING)
            return HttpResponseRedirect(changelist)
        form = RemovalForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            rate_override_remove(
                override=override,
                reason=form.cleaned_data["removal_reason"],
                user=acting_user(request.user, required=True),
            )
            self.message_user(
                request,
                f"Override of {override.currency} removed; the market rate is in effect again.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(changelist)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Remove the {override.currency} override",
            "override": override,
            "form": form,
        }
        return TemplateResponse(request, "currency/admin/override_remove.html", context)
