"""Exchange rates: every role reads the rates in effect and the overrides; Admins override.

Access is the project's one policy, DRF's default permission class (RolePolicy, in
opportunities.api.permissions, which this app may not import): these views name the
capability their writes need, `administer`. Rates are units of a currency per US dollar, as
CurrencyFreaks quotes them, sent as decimal strings.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from currency.models import RATE_DECIMAL_PLACES, RATE_MAX_DIGITS, RateOverride, RateSource
from currency.services import fx_rates_status, rate_override_remove, rate_override_set
from currency.staleness import Staleness
from pipeline_pulse.api.base import ApiView, ApiViewSet, PageNumberPagination
from pipeline_pulse.api.schema import errors
from pipeline_pulse.api.strict import StrictJsonSerializer

OVERRIDE_EXAMPLE = {
    "id": 9,
    "currency": "INR",
    "units_per_usd": "83.500000000000000000",
    "reason": "Budget rate FY27",
    "is_active": True,
    "created_at": "2026-11-25T09:00:00+08:00",
    "created_by": "revops",
    "previous_units_per_usd": "83.120000000000000000",
    "previous_source": "api",
    "previous_as_of": "2026-11-25T06:00:00+08:00",
    "removed_at": None,
    "removed_by": None,
    "removal_reason": "",
}
REMOVED_EXAMPLE = {
    **OVERRIDE_EXAMPLE,
    "is_active": False,
    "removed_at": "2026-12-31T18:00:00+08:00",
    "removed_by": "revops",
    "removal_reason": "Quarter closed",
}


def _example(name: str, value: dict[str, Any], status: str = "200") -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True, status_codes=[status])


class RateStatusSerializer(serializers.Serializer[Any]):
    currency = serializers.CharField(read_only=True)
    units_per_usd = serializers.DecimalField(
        max_digits=RATE_MAX_DIGITS,
        decimal_places=RATE_DECIMAL_PLACES,
        read_only=True,
        allow_null=True,
    )
    sgd_per_unit = serializers.DecimalField(
        max_digits=40, decimal_places=12, read_only=True, allow_null=True
    )
    as_of = serializers.DateTimeField(read_only=True, allow_null=True)
    source = serializers.ChoiceField(  # type: ignore[assignment]  # a field, not Field.source
        choices=[*RateSource.choices, ("", "No rate")], read_only=True
    )
    staleness = serializers.ChoiceField(choices=Staleness.choices, read_only=True)


class RateOverrideSerializer(serializers.ModelSerializer[RateOverride]):
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    removed_by = serializers.CharField(
        source="removed_by.username", read_only=True, allow_null=True
    )
    is_active = serializers.BooleanField(read_only=True)
    # Declared: the schema would otherwise leave out "" (there was no rate before).
    previous_source = serializers.ChoiceField(
        choices=RateSource.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = RateOverride
        fields = (
            "id",
            "currency",
            "units_per_usd",
            "reason",
            "is_active",
            "created_at",
            "created_by",
            "previous_units_per_usd",
            "previous_source",
            "previous_as_of",
            "removed_at",
            "removed_by",
            "removal_reason",
        )
        read_only_fields = fields


class RateOverrideCreateSerializer(StrictJsonSerializer):
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$",
        error_messages={"invalid": "Use a three-letter ISO 4217 code, e.g. INR."},
    )
    units_per_usd = serializers.DecimalField(
        max_digits=RATE_MAX_DIGITS,
        decimal_places=RATE_DECIMAL_PLACES,
        min_value=0,  # strictly positive: the service says so
        help_text="Units of the currency per one US dollar, e.g. 83.12 for INR.",
    )
    reason = serializers.CharField(max_length=2000, help_text="Why the API rate is not used.")


class RateOverrideRemoveSerializer(StrictJsonSerializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the override ends.")


class ExchangeRateListView(ApiView):
    @extend_schema(
        summary="Rates in effect",
        description="For every configured or overridden currency: the rate in effect, SGD per "
        "unit, its date and source, and whether it is fresh, stale (over 7 days), expired "
        "(over 30) or missing.",
        responses={200: RateStatusSerializer(many=True)},
        examples=[
            OpenApiExample(
                "INR",
                value=[
                    {
                        "currency": "INR",
                        "units_per_usd": "83.120000000000000000",
                        "sgd_per_unit": "0.016121270452",
                        "as_of": "2026-11-29T06:00:00+08:00",
                        "source": "api",
                        "staleness": "fresh",
                    }
                ],
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        return Response(RateStatusSerializer(fx_rates_status(), many=True).data)


@extend_schema_view(
    list=extend_schema(
        summary="List rate overrides",
        description="Active and ended overrides, newest first, with the rate each replaced.",
        responses={200: RateOverrideSerializer(many=True), **errors(404)},
        examples=[_example("An override", OVERRIDE_EXAMPLE)],
    ),
    retrieve=extend_schema(
        summary="Get a rate override",
        responses={200: RateOverrideSerializer, **errors(404)},
        examples=[_example("An override", OVERRIDE_EXAMPLE)],
    ),
    create=extend_schema(
        summary="Override a rate (Admins)",
        description="Puts the rate in force now, replacing any active override of the "
        "currency; open deals are converted again at once.",
        request=RateOverrideCreateSerializer,
        responses={201: RateOverrideSerializer, **errors(400)},
        examples=[
            OpenApiExample(
                "Budget rate",
                value={"currency": "INR", "units_per_usd": "83.5", "reason": "Budget rate FY27"},
                request_only=True,
            ),
            _example("Created", OVERRIDE_EXAMPLE, "201"),
        ],
    ),
    remove=extend_schema(
        summary="End a rate override (Admins)",
        description="The newest API (or seed) rate is in effect again; deals follow at once.",
        request=RateOverrideRemoveSerializer,
        responses={200: RateOverrideSerializer, **errors(400, 404)},
        examples=[
            OpenApiExample("End it", value={"reason": "Quarter closed"}, request_only=True),
            _example("Ended", REMOVED_EXAMPLE),
        ],
    ),
)
class RateOverrideViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    write_capability = "administer"
    serializer_class = RateOverrideSerializer
    queryset = RateOverride.objects.select_related("created_by", "removed_by")
    pagination_class = PageNumberPagination
    lookup_value_regex = "[0-9]+"

    def create(self, request: Request) -> Response:
        data = RateOverrideCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        override = rate_override_set(user=request.user, **data.validated_data)  # type: ignore[arg-type]
        return Response(RateOverrideSerializer(override).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def remove(self, request: Request, pk: str) -> Response:
        override = self.get_object()
        data = RateOverrideRemoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        removed = rate_override_remove(
            override=override,
            reason=data.validated_data["reason"],
            user=request.user,  # type: ignore[arg-type]
        )
        return Response(RateOverrideSerializer(removed).data)
