"""The answer to a locked-out login (django-axes): the login page, saying so and for how long."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from pipeline_pulse.web.login import allow_zoho_form_action, login_page_context


def login_lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """429 with Retry-After, and the login form with the lockout message instead of an error.

    Every try while locked starts the cool-off again (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_
    LOCKOUT), so "from now" is when it ends.
    """
    minutes: int = settings.AXES_COOLOFF_MINUTES
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    context = {
        "form": form,
        "next": request.POST.get("next", request.GET.get("next", "")),
        "locked_out_minutes": minutes,
        "locked_until": timezone.localtime() + timedelta(minutes=minutes),
        **login_page_context(),
    }
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return allow_zoho_form_action(response)
