"""Template context shared by every page: the login's role."""

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from opportunities.roles import role_of


def role(request: HttpRequest) -> dict[str, object]:
    # An error page can be drawn for a request that never reached the login middleware.
    return {"user_role": role_of(getattr(request, "user", None) or AnonymousUser())}
