"""Deals, the pipeline figures and "what changed", for the login's scope (opportunities.access).

Filters are the health board's own `DealFilter`, with its parameter names: `q` searches,
`sort` orders (`-amount_sgd`, `health`, …), and the rest filter (`health=danger&phase=3`).
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from opportunities.access import changes_visible_to, deal_for, deals_visible_to
from opportunities.api import examples
from opportunities.api.serializers import (
    ChangeEventSerializer,
    ChangePeriodSerializer,
    HealthSummarySerializer,
    OpportunityDetailSerializer,
    OpportunityEditSerializer,
    OpportunitySerializer,
    PipelineSummarySerializer,
)
from opportunities.filters import DealFilter
from opportunities.models import HealthStatus, Opportunity, OpportunityQuerySet
from opportunities.models.deals import HEALTH_ORDER, NOT_CONVERTED
from opportunities.pipeline_review import parse_quarter
from opportunities.selectors import pipeline_summary
from opportunities.services.edits import opportunity_edit
from pipeline_pulse.api.base import ApiView, ApiViewSet, PageNumberPagination
from pipeline_pulse.api.schema import errors
from pipeline_pulse.dates import week_bounds

ZERO = Decimal("0.00")


def _filtered_deals(request: Request, view: Any) -> OpportunityQuerySet:
    """The login's deals through the board's FilterSet; an invalid value is a 400."""
    deals: OpportunityQuerySet = DjangoFilterBackend().filter_queryset(
        request, deals_visible_to(request.user), view
    )
    return deals


class FilteredFiguresView(ApiView):
    """Figures over the deal list's filters (and the schema documents those filters)."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = DealFilter
    queryset = Opportunity.objects.none()  # names the model for the schema's filters only


@extend_schema_view(
    list=extend_schema(
        summary="List deals",
        description="The deals the login may see (a Rep: its own), filtered, sorted and paged "
        "as on the health board. Default order: worst health first, then soonest closing.",
        responses={200: OpportunitySerializer(many=True), **errors(400, 404)},
        examples=[examples.response("A deal", examples.DEAL)],
    ),
    retrieve=extend_schema(
        summary="Get a deal",
        description="Every field of one deal, with its health reasons and the rate used. A deal "
        "outside the login's scope is 404, as one that does not exist.",
        responses={200: OpportunityDetailSerializer, **errors(404)},
        examples=[examples.response("A deal", examples.DEAL_DETAIL)],
    ),
    partial_update=extend_schema(
        summary="Edit a deal's O2R tracking fields",
        description="Stage, probability, amount, currency, closing date and milestone dates, "
        "validated as Zoho validates them. Saved at once (phase, SGD amount and health follow) "
        "and listed in `pending_fields` until pushed to Zoho. Admins, Managers, and Reps for "
        "their own deals.",
        request=OpportunityEditSerializer,
        responses={200: OpportunityDetailSerializer, **errors(400, 404)},
        examples=[
            OpenApiExample(
                "Move the closing date and record the PO",
                value={"closing_date": "2027-01-31", "po_received_on": "2026-11-28"},
                request_only=True,
            ),
            examples.response("The deal after the edit", examples.DEAL_DETAIL),
        ],
    ),
)
class OpportunityViewSet(mixins.ListModelMixin, ApiViewSet):
    write_capability = "edit_deals"
    serializer_class = OpportunitySerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = DealFilter
    pagination_class = PageNumberPagination
    lookup_value_regex = "[0-9]+"
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> OpportunityQuerySet:
        return deals_visible_to(self.request.user).select_related("account", "owner")

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(OpportunityDetailSerializer(deal_for(request.user, pk)).data)

    def partial_update(self, request: Request, pk: str) -> Response:
        deal = deal_for(request.user, pk)
        edit = OpportunityEditSerializer(data=request.data)
        edit.is_valid(raise_exception=True)
        opportunity_edit(deal=deal, user=request.user, changes=edit.validated_data)
        return Response(OpportunityDetailSerializer(deal_for(request.user, pk)).data)


class PipelineSummaryView(FilteredFiguresView):
    @extend_schema(
        summary="Pipeline summary",
        description="The dashboard's figures in SGD over the login's deals and the same "
        "filters as the deal list: open and weighted pipeline, open deals in Danger, delivery "
        "at risk (won deals in Danger whose revenue is not recognised), and how many deals of "
        "any outcome have no SGD value (left out of the sums); and for a quarter (`quarter`, "
        "e.g. 2027Q1; this quarter by default) the SGD won, win rate and average won deal of "
        "the deals closing in it.",
        filters=True,
        parameters=[
            OpenApiParameter(
                "quarter",
                str,
                description="The quarter of the period figures, as YYYYQn (2027Q1); this "
                "quarter by default. Anything else is a 400.",
            )
        ],
        responses={200: PipelineSummarySerializer, **errors(400)},
        examples=[
            OpenApiExample(
                "Summary",
                value={
                    "open_pipeline_sgd": "4210000.00",
                    "weighted_pipeline_sgd": "1876500.00",
                    "won_this_quarter_sgd": "950000.00",
                    "danger_count": 6,
                    "danger_sgd": "610000.00",
                    "delivery_risk_count": 2,
                    "delivery_risk_sgd": "185000.00",
                    "won_quarter_count": 8,
                    "closed_quarter_count": 12,
                    "win_rate": "0.6667",
                    "average_deal_sgd": "118750.00",
                    "not_convertible_count": 1,
                    "quarter_start": "2026-10-01",
                    "quarter_end": "2026-12-31",
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        quarter = None
        text = request.query_params.get("quarter", "")
        if text.strip():
            try:
                quarter = parse_quarter(text)
            except ValueError as exc:
                raise ValidationError({"quarter": [str(exc)]}) from None
        summary = pipeline_summary(_filtered_deals(request, self), quarter=quarter)
        quarter_start, quarter_end = summary.quarter
        figures = {**asdict(summary), "quarter_start": quarter_start, "quarter_end": quarter_end}
        return Response(PipelineSummarySerializer(figures).data)


def health_breakdown(deals: OpportunityQuerySet) -> dict[str, Any]:
    """Count and SGD sum of the deals in each health state (every state, worst first)."""
    rows: dict[str, dict[str, Any]] = {
        row["health_status"]: dict(row)
        for row in deals.order_by()
        .values("health_status")
        .annotate(
            deals=Count("pk"),
            sgd=Sum("amount_sgd"),
            not_convertible=Count("pk", filter=NOT_CONVERTED),
        )
    }
    states = []
    for status in HEALTH_ORDER:
        row = rows.get(status, {})
        states.append(
            {
                "health_status": status.value,
                "label": HealthStatus(status).label,
                "count": row.get("deals", 0),
                "amount_sgd": row.get("sgd") or ZERO,
                "not_convertible_count": row.get("not_convertible", 0),
            }
        )
    return {
        "states": states,
        "total_count": sum(state["count"] for state in states),
        "total_sgd": sum((state["amount_sgd"] for state in states), ZERO),
    }


class HealthSummaryView(FilteredFiguresView):
    @extend_schema(
        summary="Deals by health state",
        description="How many of the login's deals (with the deal list's filters) are in "
        "Danger, Warning, Success and Neutral, and their SGD sums. Every state is listed, worst "
        "first, even when empty.",
        filters=True,
        responses={200: HealthSummarySerializer, **errors(400)},
        examples=[examples.response("By health", examples.HEALTH_SUMMARY)],
    )
    def get(self, request: Request) -> Response:
        breakdown = health_breakdown(_filtered_deals(request, self))
        return Response(HealthSummarySerializer(breakdown).data)


class ChangeEventViewSet(mixins.ListModelMixin, ApiViewSet):
    serializer_class = ChangeEventSerializer
    pagination_class = PageNumberPagination

    def get_queryset(self) -> Any:
        period = ChangePeriodSerializer(data=self.request.query_params)
        period.is_valid(raise_exception=True)
        default_start, default_end = week_bounds(timezone.localdate())
        start = period.validated_data.get("start", default_start)
        end = period.validated_data.get("end", default_end)
        events = changes_visible_to(self.request.user).between(start, end)
        if kinds := period.validated_data.get("kind"):
            events = events.of_kind(*kinds)
        return events.select_related("opportunity")

    @extend_schema(
        summary="What changed in a period",
        description="Changes to the login's deals on the Singapore business days from `start` "
        "to `end` (both included; default this week, Monday to Sunday), newest first: new "
        "deals, closing dates pushed or pulled in, amounts up or down, phases forward or "
        "backward, won, lost, reopened.",
        parameters=[ChangePeriodSerializer],
        responses={200: ChangeEventSerializer(many=True), **errors(400, 404)},
        examples=[examples.response("A pushed closing date", examples.CHANGE_EVENT)],
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)
