"""The opportunities app's API routes, under /api/v1/ (pipeline_pulse/api/urls.py)."""

from django.urls import path

from opportunities.api.conflicts import ConflictViewSet
from opportunities.api.pipeline_review import ForecastView, WaterfallView
from opportunities.api.stage_mappings import StageMappingViewSet
from opportunities.api.views import (
    ChangeEventViewSet,
    HealthSummaryView,
    OpportunityViewSet,
    PipelineSummaryView,
)
from pipeline_pulse.api.base import ApiRouter

router = ApiRouter()
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("change-events", ChangeEventViewSet, basename="change-event")
router.register("stage-mappings", StageMappingViewSet, basename="stage-mapping")
router.register("conflicts", ConflictViewSet, basename="conflict")

urlpatterns = [
    *router.urls,
    path("pipeline/summary/", PipelineSummaryView.as_view(), name="pipeline-summary"),
    path("pipeline/health/", HealthSummaryView.as_view(), name="pipeline-health"),
    path("pipeline/forecast/", ForecastView.as_view(), name="pipeline-forecast"),
    path("pipeline/waterfall/", WaterfallView.as_view(), name="pipeline-waterfall"),
]
