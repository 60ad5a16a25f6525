"""The currency app's API routes, under /api/v1/ (pipeline_pulse/api/urls.py)."""

from django.urls import path

from currency.api.views import ExchangeRateListView, RateOverrideViewSet
from pipeline_pulse.api.base import ApiRouter

router = ApiRouter()
router.register("rate-overrides", RateOverrideViewSet, basename="rate-override")

urlpatterns = [
    *router.urls,
    path("exchange-rates/", ExchangeRateListView.as_view(), name="exchange-rates"),
]
