"""Sign in with Zoho: send the browser to Zoho, and log in whoever Zoho sends back.

`POST /accounts/zoho/login/` keeps a random `state` (and where to go afterwards) in the
session and redirects to the org's accounts server; `GET /accounts/zoho/callback/` checks the
state, exchanges the code (sync.zoho.signin), matches the person to a login
(opportunities.services.login_for_zoho_identity) and logs them in. Every refusal returns to
the login page with a message saying why.
"""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from opportunities.services import SignInRefused, login_for_zoho_identity
from sync.zoho.errors import ZohoAuthError, ZohoError
from sync.zoho.signin import authorize_url, identity_for_code, signin_configured

logger = logging.getLogger(__name__)

SESSION_KEY = "zoho_signin"
# Logged in by Zoho, not by a password: the backend that loads the login on later requests.
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _callback_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("zoho_signin_callback"))


def _safe_next(request: HttpRequest, candidate: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _refused(request: HttpRequest, message: str) -> HttpResponse:
    messages.error(request, message)
    return redirect("login")


@login_not_required
@require_POST
def zoho_signin_start(request: HttpRequest) -> HttpResponse:
    if not signin_configured():
        raise Http404("Sign in with Zoho is not configured.")
    state = secrets.token_urlsafe(32)
    request.session[SESSION_KEY] = {
        "state": state,
        "next": _safe_next(request, request.POST.get("next", "")),
    }
    return HttpResponseRedirect(authorize_url(redirect_uri=_callback_uri(request), state=state))


@login_not_required
@require_GET
def zoho_signin_callback(request: HttpRequest) -> HttpResponse:
    if not signin_configured():
        raise Http404("Sign in with Zoho is not configured.")
    pending = request.session.pop(SESSION_KEY, None)
    state = request.GET.get("state", "")
    if not isinstance(pending, dict) or not secrets.compare_digest(
        str(pending.get("state", "")), state
    ):
        # No sign-in started in this browser, or another one's answer: never log anyone in.
        return _refused(
            request, "That sign-in with Zoho did not start here, or it expired. Try again."
        )
    if request.GET.get("error"):
        if request.GET["error"] == "access_denied":
            return _refused(request, "Sign-in with Zoho was cancelled.")
        return _refused(request, "Zoho did not sign you in. Try again, or log in with a password.")
    code = request.GET.get("code", "")
    if not code:
        return _refused(request, "Zoho sent no sign-in code. Try again.")
    try:
        identity = identity_for_code(code=code, redirect_uri=_callback_uri(request))
    except ZohoAuthError:
        logger.warning("zoho_signin_code_refused", exc_info=True)
        return _refused(
            request, "Zoho did not accept the sign-in (it may have expired). Try again."
        )
    except ZohoError:
        logger.warning("zoho_signin_unavailable", exc_info=True)
        return _refused(request, "Zoho could not be reached to sign you in. Try again in a minute.")
    try:
        user = login_for_zoho_identity(
            email=identity.email,
            email_verified=identity.email_verified,
            first_name=identity.first_name,
            last_name=identity.last_name,
        )
    except SignInRefused as refusal:
        logger.info("zoho_signin_refused", extra={"zuid": identity.zuid})
        return _refused(request, str(refusal))
    login(request, user, backend=BACKEND)  # type: ignore[arg-type]
    return HttpResponseRedirect(_safe_next(request, str(pending.get("next") or "")))
