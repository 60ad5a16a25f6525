"""Conflicts over the API: every role lists those of the deals it may see; Admins resolve them.

A conflict is one field changed both here and in Zoho to different values. Resolving keeps the
local value (pushed to Zoho), takes Zoho's, or enters a value (validated as Zoho would, then
pushed) through the same service as the Django admin.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from opportunities.access import deals_visible_to
from opportunities.models import Conflict, ConflictResolution, ConflictStatus
from opportunities.services.writeback import conflict_resolve
from pipeline_pulse.api.base import ApiViewSet, PageNumberPagination
from pipeline_pulse.api.schema import errors
from pipeline_pulse.api.strict import StrictJsonSerializer

CONFLICT_EXAMPLE = {
    "id": 7,
    "opportunity": 412,
    "deal_name": "Kallang Retail Group - Data & AI",
    "zoho_id": "5725767000000100512",
    "field": "closing_date",
    "field_label": "Closing date",
    "base_value": "2027-03-01",
    "local_value": "2027-04-15",
    "zoho_value": "2027-05-31",
    "zoho_modified_time": "2026-11-28T09:12:44Z",
    "strategy": "manual",
    "status": "open",
    "resolution": "",
    "resolved_value": None,
    "resolved_by": None,
    "resolved_at": None,
    "detected_at": "2026-11-28T09:15:02Z",
}


class ConflictSerializer(serializers.ModelSerializer[Conflict]):
    deal_name = serializers.CharField(source="opportunity.name", read_only=True)
    zoho_id = serializers.CharField(source="opportunity.zoho_id", read_only=True)
    field_label = serializers.SerializerMethodField()
    resolved_by = serializers.CharField(source="resolved_by.get_username", allow_null=True)
    base_value = serializers.JSONField(allow_null=True)
    local_value = serializers.JSONField(allow_null=True)
    zoho_value = serializers.JSONField(allow_null=True)
    resolved_value = serializers.JSONField(allow_null=True)

    class Meta:
        model = Conflict
        fields: tuple[str, ...] = (
            "id",
            "opportunity",
            "deal_name",
            "zoho_id",
            "field",
            "field_label",
            "base_value",
            "local_value",
            "zoho_value",
            "zoho_modified_time",
            "strategy",
            "status",
            "resolution",
            "resolved_value",
            "resolved_by",
            "resolved_at",
            "detected_at",
        )
        read_only_fields = fields

    def get_field_label(self, conflict: Conflict) -> str:
        return conflict.field_label


class ConflictResolveSerializer(StrictJsonSerializer):
    resolution = serializers.ChoiceField(
        choices=ConflictResolution.choices,
        help_text="kept_local pushes the local value; took_zoho keeps Zoho's; entered pushes "
        "`value`.",
    )
    value = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="The value to enter (resolution `entered`), as the field's JSON form: "
        "YYYY-MM-DD for dates, a decimal string for amounts, a whole number for probability.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["resolution"] == ConflictResolution.ENTERED and "value" not in attrs:
            raise serializers.ValidationError({"value": "Enter the value to keep."})
        return attrs


@extend_schema_view(
    list=extend_schema(
        summary="List conflicts",
        description="Conflicts of the deals the login may see, newest first; `status=open` "
        "(or `resolved`) filters them.",
        parameters=[
            OpenApiParameter("status", enum=ConflictStatus.values, required=False),
        ],
        responses={200: ConflictSerializer(many=True), **errors(400, 404)},
        examples=[OpenApiExample("An open conflict", value=[CONFLICT_EXAMPLE], response_only=True)],
    ),
    retrieve=extend_schema(
        summary="Get a conflict",
        responses={200: ConflictSerializer, **errors(404)},
        examples=[OpenApiExample("An open conflict", value=CONFLICT_EXAMPLE, response_only=True)],
    ),
)
class ConflictViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = ConflictSerializer
    pagination_class = PageNumberPagination
    write_capability = "administer"
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> Any:
        conflicts = (
            Conflict.objects.filter(opportunity__in=deals_visible_to(self.request.user))
            .select_related("opportunity", "resolved_by")
            .order_by("-detected_at", "-id")
        )
        status = self.request.query_params.get("status")
        if status in ConflictStatus.values:
            conflicts = conflicts.filter(status=status)
        elif status:
            raise serializers.ValidationError({"status": "Use open or resolved."})
        return conflicts

    @extend_schema(
        summary="Resolve a conflict (Admins)",
        request=ConflictResolveSerializer,
        responses={200: ConflictSerializer, **errors(400, 404)},
        examples=[
            OpenApiExample(
                "Keep the local value", value={"resolution": "kept_local"}, request_only=True
            ),
            OpenApiExample(
                "Enter a value",
                value={"resolution": "entered", "value": "2027-06-30"},
                request_only=True,
            ),
            OpenApiExample(
                "Resolved",
                value={**CONFLICT_EXAMPLE, "status": "resolved", "resolution": "kept_local"},
                response_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        conflict = self.get_object()
        payload = ConflictResolveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            resolved = conflict_resolve(
                conflict=conflict,
                user=request.user,
                resolution=data["resolution"],
                value=data.get("value"),
            )
        except ValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
            raise serializers.ValidationError(detail) from None
        return Response(ConflictSerializer(resolved).data)
