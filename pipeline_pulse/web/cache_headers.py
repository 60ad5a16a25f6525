"""Answers about a login's data are never kept by a shared cache or the browser's disk.

A page for a logged-in user shows that login's scope of the pipeline (a Rep's own deals) and
its name; an API answer is the same data. Without a Cache-Control header a proxy may keep
them and a browser may reuse them. Responses that say how they may be cached (the exports,
the probes, the admin's never_cache) keep what they say.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from pipeline_pulse.api.errors import is_api_request


def private_cache_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        user = getattr(request, "user", None)
        personal = (user is not None and user.is_authenticated) or is_api_request(request)
        if personal and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response

    return middleware
