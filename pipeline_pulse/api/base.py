"""What every API view shares: anonymous floods are throttled too, and pages are bounded.

Views of the apps' `api/` packages inherit `ApiView` or `ApiViewSet` (or mix `ApiMixin` into a
generic view). Access is decided by DRF's permission classes: the project's one policy,
`opportunities.api.permissions.RolePolicy`, is the default.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, pagination, viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from pipeline_pulse.models import ApiToken

MAX_PAGE_SIZE = 200


class ApiMixin(APIView):
    """Anonymous and bad-token calls are throttled too, and errors are always JSON.

    DRF marks its views `login_required = False`, so LoginRequiredMiddleware leaves them to
    DRF's authentication (token or session), which answers 401/403 JSON, not a redirect.
    """

    # DRF authenticates and checks permissions before it throttles, so a caller refused for a
    # bad token or for no login at all would never be counted: count it, as anonymous, before
    # refusing it, and answer 429 once it is over its rate.

    def perform_authentication(self, request: Request) -> None:
        try:
            super().perform_authentication(request)
        except exceptions.AuthenticationFailed:
            self.check_throttles(request)
            raise

    def check_permissions(self, request: Request) -> None:
        try:
            super().check_permissions(request)
        except exceptions.NotAuthenticated:
            self.check_throttles(request)
            raise
        token = request.auth
        if (
            isinstance(token, ApiToken)
            and token.is_read_only
            and request.method not in SAFE_METHODS
            and hasattr(self, (request.method or "").lower())  # else 405, as for anyone
        ):
            raise exceptions.PermissionDenied(
                "This token is read-only; an Admin can create a read-and-write token."
            )

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and response.exception:
            # A view that renders YAML (the schema) still answers an error in the error body.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response


class ApiView(ApiMixin):
    pass


class ApiViewSet(ApiMixin, viewsets.GenericViewSet):
    pass


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=2&page_size=100`: 50 a page by default (as the board), at most 200.

    A `page` or `page_size` that is not a whole number from 1 is a 400 naming it (DRF would
    quietly use the default), and the schema says so; a `page_size` over 200 gets 200.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    # The schema says `page` is a number: "last" is not one.
    last_page_strings = ()

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if not raw:  # absent or empty: not given
            return self.page_size
        # Asking for more than the most a page holds gets that most, as DRF does.
        return min(_whole_number(self.page_size_query_param, raw), MAX_PAGE_SIZE)

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        raw = request.query_params.get(self.page_query_param)
        if not raw:
            return 1
        # Beyond the last page is still DRF's 404 "Invalid page."
        return _whole_number(self.page_query_param, raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] in (self.page_size_query_param, self.page_query_param):
                parameter["schema"]["minimum"] = 1
        return parameters


def _whole_number(name: str, raw: str) -> int:
    """A query parameter that must be a whole number from 1, or a 400 naming it."""
    if raw.isascii() and raw.isdigit() and int(raw) >= 1:
        return int(raw)
    raise exceptions.ValidationError({name: ["Give a whole number from 1."]})


class ApiRouter(DefaultRouter):
    """The router each app registers its viewsets on: no browsable root (the schema and
    /api/docs/ describe the API), no format suffixes, trailing slashes."""

    include_root_view = False
    include_format_suffixes = False

    def __init__(self) -> None:
        super().__init__(trailing_slash=True)
