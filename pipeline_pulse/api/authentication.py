"""`Authorization: Bearer <token>` for integrations; browsers use their session instead."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from pipeline_pulse.api.tokens import api_token_find, api_token_touch
from pipeline_pulse.models import ApiToken


class BearerTokenAuthentication(BaseAuthentication):
    """A per-user API token; the request acts as the token's login, with that login's role.

    No Authorization header: not this scheme (the session may still authenticate). A Bearer
    header with a bad, unknown, expired or revoked token: 401, never a fall-back to the
    session. A read-only token's writes are refused by ApiMixin (403).
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, ApiToken] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as 'Authorization: Bearer <token>', with no spaces in it."
            )
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The token is not valid.") from None
        token = api_token_find(raw)
        if token is None:
            raise exceptions.AuthenticationFailed(
                "The token is not valid, or it expired or was revoked."
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's login is deactivated.")
        api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Naming the scheme makes DRF answer 401 (not 403) to a call without credentials.
        return f'{self.keyword} realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents the token scheme in the OpenAPI schema."""

    target_class = "pipeline_pulse.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A per-user API token an Admin created: `Authorization: Bearer pp_…`.",
        }
