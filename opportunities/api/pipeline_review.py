"""The pipeline review over the API: a quarter's forecast by category, owner and territory,
and the waterfall of its open pipeline, with the deal list's filters, for the login's scope."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from opportunities.access import deals_visible_to
from opportunities.api.views import FilteredFiguresView
from opportunities.models import OpportunityQuerySet
from opportunities.pipeline_review import (
    CATEGORY_ORDER,
    STEPS,
    Forecast,
    ForecastRow,
    ReviewForm,
    Waterfall,
    forecast,
    quarter_code,
    waterfall,
)
from pipeline_pulse.api.schema import errors


def _money() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=2)


class CategoriesSerializer(serializers.Serializer[Any]):
    closed = _money()
    commit = _money()
    best_case = _money()
    pipeline = _money()
    omitted = _money()


class ForecastRowSerializer(serializers.Serializer[Any]):
    key = serializers.CharField(
        help_text="The board filter's value: the owner's id, or the territory; empty for none."
    )
    name = serializers.CharField()
    categories = CategoriesSerializer()
    total_sgd = _money()
    deals = serializers.IntegerField()
    not_converted_count = serializers.IntegerField(
        help_text="Deals with an amount but no SGD value: counted, left out of the sums."
    )


class ForecastSerializer(serializers.Serializer[Any]):
    quarter = serializers.CharField()
    categories = CategoriesSerializer()
    deals = serializers.IntegerField()
    not_converted_count = serializers.IntegerField()
    by_owner = ForecastRowSerializer(many=True)
    by_territory = ForecastRowSerializer(many=True)


class WaterfallSerializer(serializers.Serializer[Any]):
    quarter = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    start_open_sgd = _money()
    new_sgd = _money()
    increased_sgd = _money()
    decreased_sgd = _money()
    pulled_in_sgd = _money()
    pushed_out_sgd = _money()
    won_sgd = _money()
    lost_sgd = _money()
    deleted_sgd = _money()
    fx_sgd = _money()
    unexplained_sgd = _money()
    end_open_sgd = _money()
    history_start = serializers.DateTimeField(allow_null=True)
    starts_at_first_sync = serializers.BooleanField()
    ends_before_history = serializers.BooleanField(
        help_text="The whole period is before the first sync: history cannot say anything."
    )


def _categories(row: ForecastRow) -> dict[str, Any]:
    return {category.value: row.cells[category].amount_sgd for category in CATEGORY_ORDER}


def _row(row: ForecastRow) -> dict[str, Any]:
    total = row.total
    return {
        "key": row.key,
        "name": row.label,
        "categories": _categories(row),
        "total_sgd": total.amount_sgd,
        "deals": total.deals,
        "not_converted_count": total.not_converted,
    }


def forecast_body(result: Forecast) -> dict[str, Any]:
    return {
        "quarter": quarter_code(result.quarter[0]),
        "categories": _categories(result.totals),
        "deals": result.totals.total.deals,
        "not_converted_count": result.not_converted,
        "by_owner": [_row(row) for row in result.by_owner],
        "by_territory": [_row(row) for row in result.by_territory],
    }


def waterfall_body(result: Waterfall) -> dict[str, Any]:
    return {
        "quarter": quarter_code(result.quarter[0]),
        "start": result.start,
        "end": result.end,
        "start_open_sgd": result.start_open_sgd,
        **{f"{step}_sgd": result.steps[step] for step in STEPS},
        "unexplained_sgd": result.unexplained_sgd,
        "end_open_sgd": result.end_open_sgd,
        "history_start": result.history_start,
        "starts_at_first_sync": result.starts_at_first_sync,
        "ends_before_history": result.ends_before_history,
    }


QUARTER = OpenApiParameter(
    "quarter", str, description="A calendar quarter, YYYYQn (e.g. 2027Q1). Default: this quarter."
)
START = OpenApiParameter(
    "start",
    str,
    description="First Singapore day of the period, YYYY-MM-DD. Default: the quarter's first "
    "day (today for a quarter still to come).",
)
END = OpenApiParameter(
    "end",
    str,
    description="Last Singapore day of the period, YYYY-MM-DD, up to today. Default: today.",
)


class ReviewView(FilteredFiguresView):
    include_deleted = False

    def review(self, request: Request) -> tuple[dict[str, Any], OpportunityQuerySet]:
        form = ReviewForm(request.query_params, today=timezone.localdate())
        if not form.is_valid():
            raise ValidationError(
                {name: [str(m) for m in messages] for name, messages in form.errors.items()}
            )
        deals: OpportunityQuerySet = DjangoFilterBackend().filter_queryset(
            request,
            deals_visible_to(request.user, include_deleted=self.include_deleted),
            self,
        )
        return form.cleaned_data, deals.order_by()


class ForecastView(ReviewView):
    @extend_schema(
        summary="A quarter's forecast by category",
        description="The login's deals (with the deal list's filters) closing in the quarter, in "
        "SGD: Closed (won), Commit, Best case, Pipeline, Omitted (lost); the same by owner and "
        "by territory (each set of rows adds up to the totals to the cent). An open deal takes "
        "its stage's forecast category (Zoho's, or an Admin's override), else its probability: "
        "80+ Commit, 50-79 Best case, below 50 Pipeline. Deals without an SGD value are "
        "counted in `not_converted_count`, never summed.",
        filters=True,
        parameters=[QUARTER],
        responses={200: ForecastSerializer, **errors(400)},
        examples=[
            OpenApiExample(
                "Forecast",
                value={
                    "quarter": "2027Q1",
                    "categories": {
                        "closed": "420000.00",
                        "commit": "910000.00",
                        "best_case": "655000.00",
                        "pipeline": "1210500.00",
                        "omitted": "180000.00",
                    },
                    "deals": 61,
                    "not_converted_count": 0,
                    "by_owner": [
                        {
                            "key": "12",
                            "name": "Mei Lin Tan",
                            "categories": {
                                "closed": "420000.00",
                                "commit": "910000.00",
                                "best_case": "655000.00",
                                "pipeline": "1210500.00",
                                "omitted": "180000.00",
                            },
                            "total_sgd": "3375500.00",
                            "deals": 61,
                            "not_converted_count": 0,
                        }
                    ],
                    "by_territory": [],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        data, deals = self.review(request)
        return Response(ForecastSerializer(forecast_body(forecast(deals, data["quarter"]))).data)


class WaterfallView(ReviewView):
    include_deleted = True

    @extend_schema(
        summary="The waterfall of a quarter's open pipeline",
        description="How the open pipeline of the quarter (open deals closing in it, SGD) moved "
        "from the start of `start` to the end of `end`, from the deals' recorded history: "
        "start + new + increased + decreased + pulled in + pushed out + won + lost + deleted + "
        "fx + unexplained = end, to the cent. Steps that take away are negative. "
        "`unexplained_sgd` is what the history did not record (zero when it recorded "
        "everything); a period starting before the first sync starts at it "
        "(`starts_at_first_sync`).",
        filters=True,
        parameters=[QUARTER, START, END],
        responses={200: WaterfallSerializer, **errors(400)},
    )
    def get(self, request: Request) -> Response:
        data, deals = self.review(request)
        result = waterfall(deals, data["quarter"], data["start"], data["end"])
        return Response(WaterfallSerializer(waterfall_body(result)).data)
