"""Stage mappings over the API: every role reads them, Admins change them.

A save or a removal places the deals of the stage again (`stage_mapping_save/delete`), and
the answer says how many deals were checked and how many moved.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from opportunities.api import examples
from opportunities.models import Outcome, Phase, StageMapping
from opportunities.services.lifecycle import (
    RederiveResult,
    stage_mapping_delete,
    stage_mapping_save,
)
from pipeline_pulse.api.base import ApiViewSet
from pipeline_pulse.api.schema import errors
from pipeline_pulse.api.strict import StrictJsonSerializer


class StageMappingSerializer(serializers.ModelSerializer[StageMapping]):
    phase_label = serializers.SerializerMethodField()

    class Meta:
        model = StageMapping
        fields: tuple[str, ...] = (
            "id",
            "stage",
            "phase",
            "phase_label",
            "outcome",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_phase_label(self, mapping: StageMapping) -> str:
        return mapping.get_phase_display() if mapping.phase else "Phase kept (lost)"


class StageMappingWriteSerializer(StrictJsonSerializer):
    stage = serializers.CharField(max_length=120, help_text="The Zoho stage, as Zoho names it.")
    phase = serializers.ChoiceField(
        choices=Phase.choices,
        allow_null=True,
        required=False,
        help_text="1-4; null only for a lost stage (the deal keeps the phase it reached).",
    )
    outcome = serializers.ChoiceField(choices=Outcome.choices, default=Outcome.OPEN)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A partial change is checked against the saved row, by the model's constraints.
        if self.partial:
            return attrs
        if attrs.get("phase") is None and attrs.get("outcome") != Outcome.LOST:
            raise serializers.ValidationError({"phase": "Only a lost stage may leave it empty."})
        return attrs


class StageMappingSavedSerializer(StageMappingSerializer):
    deals_checked = serializers.IntegerField(read_only=True)
    deals_moved = serializers.IntegerField(read_only=True)

    class Meta(StageMappingSerializer.Meta):
        fields = (*StageMappingSerializer.Meta.fields, "deals_checked", "deals_moved")
        read_only_fields = fields


class RederiveResultSerializer(serializers.Serializer[Any]):
    deals_checked = serializers.IntegerField(source="checked")
    deals_moved = serializers.IntegerField(source="moved")


def _saved(mapping: StageMapping, result: RederiveResult) -> dict[str, Any]:
    mapping.deals_checked, mapping.deals_moved = result.checked, result.moved  # type: ignore[attr-defined]
    return StageMappingSavedSerializer(mapping).data


SAVED_EXAMPLE = {**examples.STAGE_MAPPING, "deals_checked": 12, "deals_moved": 9}
MAPPING_EXAMPLE = OpenApiExample(
    "Map a custom stage to Proposal",
    value={"stage": "Proposal submitted", "phase": 3, "outcome": "open"},
    request_only=True,
)


@extend_schema_view(
    list=extend_schema(
        summary="List stage mappings",
        description="Ordered by phase, then stage.",
        examples=[examples.response("A mapping", [examples.STAGE_MAPPING])],
    ),
    retrieve=extend_schema(
        summary="Get a stage mapping",
        responses={200: StageMappingSerializer, **errors(404)},
        examples=[examples.response("A mapping", examples.STAGE_MAPPING)],
    ),
    create=extend_schema(
        summary="Add a stage mapping (Admins)",
        description="Deals in that stage are placed again at once.",
        request=StageMappingWriteSerializer,
        responses={201: StageMappingSavedSerializer, **errors(400)},
        examples=[MAPPING_EXAMPLE, examples.response("Saved", SAVED_EXAMPLE, "201")],
    ),
    update=extend_schema(
        summary="Replace a stage mapping (Admins)",
        description="Deals in the old and the new stage are placed again at once.",
        request=StageMappingWriteSerializer,
        responses={200: StageMappingSavedSerializer, **errors(400, 404)},
        examples=[MAPPING_EXAMPLE, examples.response("Saved", SAVED_EXAMPLE)],
    ),
    partial_update=extend_schema(
        summary="Change a stage mapping (Admins)",
        description="Send only what changes; deals are placed again at once.",
        request=StageMappingWriteSerializer(partial=True),
        responses={200: StageMappingSavedSerializer, **errors(400, 404)},
        examples=[
            OpenApiExample("Move to Qualified", value={"phase": 2}, request_only=True),
            examples.response("Saved", SAVED_EXAMPLE),
        ],
    ),
    destroy=extend_schema(
        summary="Remove a stage mapping (Admins)",
        description="Deals in that stage fall back on their probability and are listed as "
        "unmapped.",
        responses={200: RederiveResultSerializer, **errors(404)},
        examples=[examples.response("Removed", {"deals_checked": 12, "deals_moved": 9})],
    ),
)
class StageMappingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    write_capability = "administer"
    serializer_class = StageMappingSerializer
    queryset = StageMapping.objects.all()
    lookup_value_regex = "[0-9]+"
    pagination_class = None  # a few dozen rows at most

    def create(self, request: Request) -> Response:
        data = self._input(request)
        mapping = StageMapping(**data)
        result = stage_mapping_save(mapping=mapping, user=request.user)
        return Response(_saved(mapping, result), status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        mapping = self.get_object()
        previous_stage = mapping.stage
        for name, value in self._input(request, partial=partial).items():
            setattr(mapping, name, value)
        result = stage_mapping_save(
            mapping=mapping, user=request.user, previous_stage=previous_stage
        )
        return Response(_saved(mapping, result))

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    def destroy(self, request: Request, pk: str) -> Response:
        result = stage_mapping_delete(mapping=self.get_object())
        return Response(RederiveResultSerializer(result).data)

    def _input(self, request: Request, *, partial: bool = False) -> dict[str, Any]:
        serializer = StageMappingWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        return data
