"""The login page: Django's login view, offering "Sign in with Zoho" when it is configured."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponse


def zoho_signin_offered() -> bool:
    return bool(settings.ZOHO_LOGIN_CLIENT_ID and settings.ZOHO_LOGIN_CLIENT_SECRET)


def login_page_context() -> dict[str, Any]:
    """What the login page shows besides the form (also for the lockout answer)."""
    return {"zoho_signin": zoho_signin_offered()}


def allow_zoho_form_action(response: HttpResponse) -> HttpResponse:
    """The "Sign in with Zoho" form posts here and is redirected to Zoho's accounts server:
    the Content-Security-Policy's form-action covers that redirect, so it names that origin
    on the login page (and nowhere else)."""
    if zoho_signin_offered():
        accounts = urlsplit(str(settings.ZOHO_ACCOUNTS_URL))
        response._csp_update = {  # type: ignore[attr-defined]
            "form-action": [f"{accounts.scheme}://{accounts.netloc}"]
        }
    return response


class LoginView(auth_views.LoginView):
    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(login_page_context())
        return context

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        return allow_zoho_form_action(super().render_to_response(context, **kwargs))
