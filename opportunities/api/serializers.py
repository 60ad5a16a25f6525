"""Deals and the pipeline figures as the API shows them; the edit input apart from the output.

Money is a decimal string ("125000.00"), never a float. Field names are the model's, so the
API, the exports and the field catalogue (`opportunities.deal_fields`) speak alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from currency.models import RateSource
from opportunities.deal_fields import FIELDS_BY_NAME
from opportunities.models import (
    Account,
    ChangeEvent,
    ChangeKind,
    CrmUser,
    HealthStatus,
    Opportunity,
)
from opportunities.services.edits import MAX_AMOUNT
from pipeline_pulse.api.strict import StrictJsonSerializer
from pipeline_pulse.dates import validate_business_date


def money(help_text: str = "", *, allow_null: bool = False) -> serializers.DecimalField:
    """An SGD amount as a decimal string, e.g. "125000.00"."""
    return serializers.DecimalField(
        max_digits=18, decimal_places=2, read_only=True, allow_null=allow_null, help_text=help_text
    )


class AccountSerializer(serializers.ModelSerializer[Account]):
    class Meta:
        model = Account
        fields = ("id", "zoho_id", "name")


class OwnerSerializer(serializers.ModelSerializer[CrmUser]):
    class Meta:
        model = CrmUser
        fields = ("id", "zoho_id", "name", "email")


class HealthReasonSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    severity = serializers.CharField()
    message = serializers.CharField()


class OpportunitySerializer(serializers.ModelSerializer[Opportunity]):
    """A deal in a list: what the board shows."""

    account = AccountSerializer(read_only=True, allow_null=True)
    owner = OwnerSerializer(read_only=True, allow_null=True)
    phase_label = serializers.CharField(source="get_phase_display", read_only=True)
    requires_attention = serializers.BooleanField(read_only=True)
    is_strategic = serializers.BooleanField(read_only=True)
    pending_fields = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Opportunity
        fields: tuple[str, ...] = (
            "id",
            "zoho_id",
            "name",
            "account",
            "owner",
            "stage",
            "probability",
            "amount",
            "currency",
            "amount_sgd",
            "closing_date",
            "phase",
            "phase_label",
            "outcome",
            "health_status",
            "requires_attention",
            "is_strategic",
            "territory",
            "service_line",
            "pending_fields",
            "updated_at",
        )
        read_only_fields = fields


class OpportunityDetailSerializer(OpportunitySerializer):
    """One deal: every field, its health reasons and the rate its SGD amount used."""

    health_reasons = HealthReasonSerializer(many=True, read_only=True)
    # Declared: the schema would otherwise leave out "" (no SGD amount, so no rate).
    fx_rate_source = serializers.ChoiceField(
        choices=RateSource.choices, allow_blank=True, read_only=True
    )
    days_in_phase = serializers.IntegerField(read_only=True)
    # What the deal holds back: a local value Zoho refused (or that could not be sent), with
    # Zoho's reason, and why Zoho's newest values could not be stored. Other systems must see
    # these as the deal page does, or a refused edit looks like one still on its way.
    push_errors = serializers.DictField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Zoho's refusal of a pushed field: field name → Zoho's message.",
    )
    refused_values = serializers.DictField(
        child=serializers.JSONField(),
        read_only=True,
        help_text="Local values set aside (field name → value as sent to Zoho); the field shows "
        "Zoho's value meanwhile and the value counts in no total until edited again or dropped.",
    )

    class Meta(OpportunitySerializer.Meta):
        fields = (
            *OpportunitySerializer.Meta.fields,
            "zoho_exchange_rate",
            "zoho_created_time",
            "zoho_modified_time",
            "deal_type",
            "lead_source",
            "funding_type",
            "market_segment",
            "proposal_submitted_on",
            "po_received_on",
            "kickoff_on",
            "invoiced_on",
            "payment_received_on",
            "revenue_recognised_on",
            "fx_rate",
            "fx_rate_as_of",
            "fx_rate_source",
            "fx_note",
            "phase_entered_at",
            "days_in_phase",
            "health_reasons",
            "health_computed_at",
            "closing_date_push_count",
            "closing_date_pull_in_count",
            "push_errors",
            "refused_values",
            "zoho_unreadable",
            "created_at",
        )
        read_only_fields = fields


def _date() -> serializers.DateField:
    return serializers.DateField(required=False, allow_null=True)


class OpportunityEditSerializer(StrictJsonSerializer):
    """A PATCH of a deal's O2R tracking fields (`deal_fields.EDITABLE_FIELDS`); send only the
    fields that change. Zoho's own rules (a known stage, required fields) are checked next by
    `opportunity_edit`, with the same error body."""

    stage = serializers.CharField(required=False, max_length=120)
    probability = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=100
    )
    amount = serializers.DecimalField(
        required=False,
        allow_null=True,
        max_digits=18,
        decimal_places=2,
        min_value=0,
        max_value=MAX_AMOUNT,
    )
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$",
        required=False,
        error_messages={"invalid": "Use a three-letter ISO 4217 code, e.g. USD."},
    )
    closing_date = serializers.DateField(required=False)
    proposal_submitted_on = _date()
    po_received_on = _date()
    kickoff_on = _date()
    invoiced_on = _date()
    payment_received_on = _date()
    revenue_recognised_on = _date()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            refused = {
                name: ["This field is kept in Zoho or computed; it cannot be edited here."]
                if name in FIELDS_BY_NAME or name in OpportunityDetailSerializer.Meta.fields
                else ["Not a field of a deal."]
                for name in data
                if name not in self.fields
            }
            if refused:
                raise serializers.ValidationError(refused)
        return super().to_internal_value(data)


class PipelineSummarySerializer(serializers.Serializer[Any]):
    """`selectors.pipeline_summary()`: the dashboard's figures, in SGD."""

    open_pipeline_sgd = money("Open deals.")
    weighted_pipeline_sgd = money("Open deals times their probability.")
    won_this_quarter_sgd = money(
        "Won deals closing in the quarter (`quarter`, this calendar quarter by default)."
    )
    won_quarter_count = serializers.IntegerField(
        read_only=True, help_text="Won deals closing in the quarter."
    )
    closed_quarter_count = serializers.IntegerField(
        read_only=True, help_text="Won and lost deals closing in the quarter."
    )
    danger_count = serializers.IntegerField(read_only=True, help_text="Open deals in Danger.")
    danger_sgd = money("Open deals in Danger.")
    delivery_risk_count = serializers.IntegerField(
        read_only=True,
        help_text="Delivery at risk: won deals in Danger whose revenue is not recognised yet.",
    )
    delivery_risk_sgd = money("Delivery at risk, in SGD.")
    win_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        read_only=True,
        allow_null=True,
        help_text="Won / (won + lost) among the deals closing in the quarter, from 0 to 1; "
        "null when none has closed.",
    )
    average_deal_sgd = money(
        "Average won deal closing in the quarter; null without any.", allow_null=True
    )
    not_convertible_count = serializers.IntegerField(
        read_only=True,
        help_text="Deals of any outcome with an amount but no SGD value: left out of the sums.",
    )
    quarter_start = serializers.DateField(
        read_only=True, help_text="The quarter of the period figures."
    )
    quarter_end = serializers.DateField(read_only=True)


class HealthBucketSerializer(serializers.Serializer[Any]):
    health_status = serializers.ChoiceField(choices=HealthStatus.choices, read_only=True)
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]
    count = serializers.IntegerField(read_only=True)
    amount_sgd = money("Sum of the SGD amounts.")
    not_convertible_count = serializers.IntegerField(read_only=True)


class HealthSummarySerializer(serializers.Serializer[Any]):
    states = HealthBucketSerializer(many=True, read_only=True, help_text="Worst first.")
    total_count = serializers.IntegerField(read_only=True)
    total_sgd = money()


class ChangeEventSerializer(serializers.ModelSerializer[ChangeEvent]):
    """One change "What changed" reports. New fields of ChangeEvent go in `fields`."""

    opportunity_name = serializers.CharField(source="opportunity.name", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = ChangeEvent
        fields = (
            "id",
            "opportunity",
            "opportunity_name",
            "kind",
            "kind_label",
            "old_value",
            "new_value",
            "delta",
            "cause",
            "occurred_at",
        )
        read_only_fields = fields


class ChangePeriodSerializer(serializers.Serializer[Any]):
    """The query of the change-event list: a period of Singapore business days and kinds."""

    start = serializers.DateField(
        required=False,
        help_text="Default: Monday of this week. From 2000-01-01 to 2099-12-31.",
        validators=[validate_business_date],
    )
    end = serializers.DateField(
        required=False,
        help_text="Default: Sunday of this week. From 2000-01-01 to 2099-12-31.",
        validators=[validate_business_date],
    )
    kind = serializers.MultipleChoiceField(choices=ChangeKind.choices, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and end < start:
            raise serializers.ValidationError({"end": "The end of the period is before its start."})
        return attrs
