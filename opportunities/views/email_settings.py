"""E-mail settings: a login turns the weekly digest on or off (the digest's unsubscribe link)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from opportunities.digest import wants_weekly_digest, weekly_digest_default
from opportunities.models import EmailPreferences
from opportunities.roles import Role, role_of

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class EmailSettingsForm(forms.Form):
    weekly_digest = forms.BooleanField(required=False, label="Send me the weekly digest")


@require_http_methods(["GET", "POST"])
def email_settings(request: HttpRequest) -> HttpResponse:
    """GET shows the login's choice; POST saves it and comes back here (login required)."""
    user = cast("User", request.user)  # the page needs a login (LoginRequiredMiddleware)
    if request.method == "POST":
        form = EmailSettingsForm(request.POST)
        if form.is_valid():
            wanted = form.cleaned_data["weekly_digest"]
            EmailPreferences.objects.update_or_create(user=user, defaults={"weekly_digest": wanted})
            messages.success(
                request,
                "You will get the weekly digest every Monday."
                if wanted
                else "You will no longer get the weekly digest.",
            )
            return redirect("email_settings")
    else:
        form = EmailSettingsForm(initial={"weekly_digest": wants_weekly_digest(user)})
    context = {
        "form": form,
        "is_rep": role_of(user) is Role.REP,
        "on_by_default": weekly_digest_default(user),
        "email": getattr(user, "email", ""),
    }
    return render(request, "opportunities/email_settings.html", context)
