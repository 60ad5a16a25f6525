"""What every API view shares: DRF handles the login itself, and anonymous floods are throttled.

Views of the apps' `api/` packages inherit `ApiView` or `ApiViewSet` (or mix `ApiMixin` into a
generic view). Access is decided by DRF's permission classes: the project's one policy,
`opportunities.api.permissions.RolePolicy`, is the default.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from rest_framework import exceptions, pagination, viewsets
from rest_framework.request import Request
from rest_framework.views import APIView

MAX_PAGE_SIZE = 200


class ApiMixin(APIView):
    """Login through DRF (token or session), answering 401/403 JSON, not a redirect."""

    @classmethod
    def as_view(cls, *args: Any, **kwargs: Any) -> Any:
        # LoginRequiredMiddleware would send an anonymous caller to the login page; an API
        # authenticates in DRF (a token is not a session) and refuses with a JSON error.
        view = super().as_view(*args, **kwargs)
        return login_not_required(view)

    def check_permissions(self, request: Request) -> None:
        # DRF checks permissions before throttles, so a caller refused for lack of (or a bad)
        # login would never be counted: count it first, and answer 429 once it is over.
        try:
            super().check_permissions(request)
        except (exceptions.NotAuthenticated, exceptions.AuthenticationFailed):
            self.check_throttles(request)
            raise


class ApiView(ApiMixin):
    pass


class ApiViewSet(ApiMixin, viewsets.GenericViewSet):
    pass


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=2&page_size=100`: 50 a page by default (as the board), at most 200."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
