"""The API's routes: /api/v1/ (each app's own routes, in its api/urls.py), the OpenAPI schema
and its Swagger UI."""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from pipeline_pulse.api.base import ApiMixin


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
    # The apps' routes share the `api` namespace: "api:opportunity-list" and the like.
    path("v1/", include("opportunities.api.urls")),
    path("v1/", include("sync.api.urls")),
    path("v1/", include("currency.api.urls")),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
]
