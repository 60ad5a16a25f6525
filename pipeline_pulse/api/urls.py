"""The API's routes: /api/v1/ (each app's views), the OpenAPI schema and its Swagger UI.

This module is project wiring, like the root urlconf: it names every app's API views.
"""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from currency.api.views import ExchangeRateListView, RateOverrideViewSet
from opportunities.api.conflicts import ConflictViewSet
from opportunities.api.stage_mappings import StageMappingViewSet
from opportunities.api.views import (
    ChangeEventViewSet,
    HealthSummaryView,
    OpportunityViewSet,
    PipelineSummaryView,
)
from pipeline_pulse.api.base import ApiMixin
from sync.api.views import SyncRunViewSet


class Router(DefaultRouter):
    include_root_view = False  # the schema and /api/docs/ describe the API
    include_format_suffixes = False


router = Router(trailing_slash=True)
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("change-events", ChangeEventViewSet, basename="change-event")
router.register("stage-mappings", StageMappingViewSet, basename="stage-mapping")
router.register("conflicts", ConflictViewSet, basename="conflict")
router.register("sync-runs", SyncRunViewSet, basename="sync-run")
router.register("rate-overrides", RateOverrideViewSet, basename="rate-override")


class SchemaView(ApiMixin, SpectacularAPIView):
    """The OpenAPI 3 schema (YAML, or JSON with ?format=json), for logged-in callers."""


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI from local files. A page: an anonymous visitor is sent to log in.

    The split view serves its start-up script as a separate request (`?script`), so the page
    runs under the Content-Security-Policy without an inline script.
    """

    template_name = "api/swagger_ui.html"

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        view = super().as_view(**initkwargs)
        view.login_required = True  # type: ignore[attr-defined]  # DRF opted it out
        return view


app_name = "api"
urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/pipeline/summary/", PipelineSummaryView.as_view(), name="pipeline-summary"),
    path("v1/pipeline/health/", HealthSummaryView.as_view(), name="pipeline-health"),
    path("v1/exchange-rates/", ExchangeRateListView.as_view(), name="exchange-rates"),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
]
