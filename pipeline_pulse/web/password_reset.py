"""Password reset by e-mail: Django's views, limited per e-mail address and per client address.

The answer never says whether an address belongs to a login: a known and an unknown address
both lead to the same "check your inbox" page, and both count against the limits. Past a
limit the form is shown again with 429, whatever the address.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpResponse

from pipeline_pulse.web.client_address import client_address
from pipeline_pulse.web.rate_limits import rate_hit

HOUR = 3600


def _email_key(email: str) -> str:
    # Hashed: the cache and Redis never hold the addresses people typed.
    digest = hashlib.sha256(email.strip().casefold().encode()).hexdigest()
    return f"password-reset:email:{digest}"


def reset_wait_seconds(*, email: str, client: str) -> float | None:
    """Count one reset request; None when it may go ahead, else the seconds to wait.

    The client's count comes first: a client past its limit cannot spend other addresses'
    allowance.
    """
    wait = rate_hit(
        key=f"password-reset:client:{client or 'unknown'}",
        requests=settings.PASSWORD_RESET_PER_CLIENT_PER_HOUR,
        per_seconds=HOUR,
    )
    if wait is not None:
        return wait
    return rate_hit(
        key=_email_key(email),
        requests=settings.PASSWORD_RESET_PER_EMAIL_PER_HOUR,
        per_seconds=HOUR,
    )


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's reset request, with an HTML and a plain-text part, behind the two limits."""

    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    html_email_template_name = "registration/password_reset_email.html"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        wait = reset_wait_seconds(
            email=form.cleaned_data["email"], client=client_address(self.request)
        )
        if wait is not None:
            minutes = max(1, math.ceil(wait / 60))
            response = self.render_to_response(
                self.get_context_data(form=form, throttled_minutes=minutes), status=429
            )
            response["Retry-After"] = str(math.ceil(wait))
            return response
        self.extra_email_context = reset_link_context()
        return super().form_valid(form)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(reset_link_context())
        return context


def reset_link_context() -> dict[str, Any]:
    """What the reset pages and the e-mail say about the link: how long it works."""
    return {"reset_link_minutes": settings.PASSWORD_RESET_TIMEOUT // 60}
