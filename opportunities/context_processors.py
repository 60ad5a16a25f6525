"""Template context shared by every page: the login's role."""

from django.http import HttpRequest

from opportunities.roles import role_of


def role(request: HttpRequest) -> dict[str, object]:
    return {"user_role": role_of(request.user)}
