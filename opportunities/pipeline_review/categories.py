"""Forecast categories: from the stage (an admin's override, then Zoho's), else probability."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.db.models import Case, CharField, Value, When
from django.db.models.functions import Lower, Trim

from opportunities.models import (
    CrmStage,
    ForecastCategory,
    OpportunityQuerySet,
    Outcome,
    StageMapping,
)

# Zoho's own open categories (any case); an org's custom ones an admin maps per stage.
ZOHO_OPEN_CATEGORIES = {
    "pipeline": ForecastCategory.PIPELINE,
    "best case": ForecastCategory.BEST_CASE,
    "committed": ForecastCategory.COMMIT,
    "commit": ForecastCategory.COMMIT,
}
COMMIT_FROM, BEST_CASE_FROM = 80, 50  # probability bands: >= 80 Commit, 50-79 Best case
CATEGORY_ORDER = tuple(ForecastCategory)
OPEN_CATEGORY_VALUES = (
    ForecastCategory.COMMIT.value,
    ForecastCategory.BEST_CASE.value,
    ForecastCategory.PIPELINE.value,
)


def category_by_probability(probability: int | None) -> str:
    """The fallback of an open deal whose stage has no category: 80+, 50-79, below 50."""
    if probability is not None and probability >= COMMIT_FROM:
        return ForecastCategory.COMMIT
    if probability is not None and probability >= BEST_CASE_FROM:
        return ForecastCategory.BEST_CASE
    return ForecastCategory.PIPELINE


def stage_categories() -> dict[str, str]:
    """Lower-cased stage → forecast category, for stages that have one (two small queries):
    an admin's override in the stage mapping first, then Zoho's category of the stage when it
    is one of Zoho's open ones (Pipeline, Best Case, Committed)."""
    categories: dict[str, str] = {}
    for name, zoho in CrmStage.objects.values_list("name", "forecast_category"):
        zoho_category = ZOHO_OPEN_CATEGORIES.get(zoho.strip().lower())
        if zoho_category:
            categories[name.strip().lower()] = zoho_category.value
    overrides = StageMapping.objects.exclude(forecast_category="").values_list(
        "stage", "forecast_category"
    )
    for stage, override in overrides:
        categories[stage.strip().lower()] = override
    return categories


def forecast_category_of(
    *, outcome: str, stage: str, probability: int | None, categories: Mapping[str, str]
) -> str:
    """One deal's category, as forecast_category_expression computes it in the database."""
    if outcome == Outcome.WON:
        return ForecastCategory.CLOSED
    if outcome == Outcome.LOST:
        return ForecastCategory.OMITTED
    return categories.get(stage.strip().lower()) or category_by_probability(probability)


def forecast_category_expression(categories: Mapping[str, str]) -> Case:
    """The category as SQL; needs the `stage_key` annotation (with_forecast_category adds it)."""
    by_category: dict[str, list[str]] = defaultdict(list)
    for stage, category in categories.items():
        by_category[category].append(stage)
    return Case(
        When(outcome=Outcome.WON, then=Value(ForecastCategory.CLOSED.value)),
        When(outcome=Outcome.LOST, then=Value(ForecastCategory.OMITTED.value)),
        *(
            When(stage_key__in=sorted(stages), then=Value(category))
            for category, stages in sorted(by_category.items())
        ),
        When(probability__gte=COMMIT_FROM, then=Value(ForecastCategory.COMMIT.value)),
        When(probability__gte=BEST_CASE_FROM, then=Value(ForecastCategory.BEST_CASE.value)),
        default=Value(ForecastCategory.PIPELINE.value),
        output_field=CharField(),
    )


def with_forecast_category(
    deals: OpportunityQuerySet, categories: Mapping[str, str] | None = None
) -> Any:
    """Annotate `forecast_category` (a ForecastCategory value) on each deal (typed Any: the
    type checker cannot follow the annotation)."""
    categories = stage_categories() if categories is None else categories
    return deals.annotate(stage_key=Lower(Trim("stage"))).annotate(
        forecast_category=forecast_category_expression(categories)
    )
