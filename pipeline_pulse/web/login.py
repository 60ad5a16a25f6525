"""The login page: Django's login view, offering "Sign in with Zoho" when it is configured."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views


def login_page_context() -> dict[str, Any]:
    """What the login page shows besides the form (also for the lockout answer)."""
    return {
        "zoho_signin": bool(settings.ZOHO_LOGIN_CLIENT_ID and settings.ZOHO_LOGIN_CLIENT_SECRET)
    }


class LoginView(auth_views.LoginView):
    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(login_page_context())
        return context
