"""The product's URLs plus a trivial signed-in page: the web benchmark's baseline.

The baseline passes through every middleware a product page does (session, login, CSRF,
CSP, metrics), looks the login up, and renders nothing: what is left of a page's time above
it is the page's own work.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from pipeline_pulse.urls import urlpatterns as product_urlpatterns


def signed_in_baseline(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"signed in as {request.user.get_username()}", content_type="text/plain")


urlpatterns = [
    path("bench/signed-in", signed_in_baseline, name="bench_signed_in"),
    *product_urlpatterns,
]
