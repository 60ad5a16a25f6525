"""Sign in with Zoho: the OAuth 2.0 authorization-code flow against the org's accounts server.

Three calls, all to ZOHO_ACCOUNTS_URL (the org's data centre): the browser is sent to
`/oauth/v2/auth` (scope `openid email profile`), the code it brings back is exchanged at
`/oauth/v2/token`, and the access token reads the person's OpenID Connect claims at
`/oauth/v2/userinfo`. The token answer's `id_token` carries the same claims; it came straight
from Zoho's token endpoint over TLS, so (as OpenID Connect allows for that case) its
signature is not checked, but its audience must be this client and its subject the user
info's. User info wins; the id_token fills what it leaves out (`email_verified`, in
particular). A person is waiting in the browser: no retries, short timeouts.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings

from sync.zoho.errors import ZohoAuthError, ZohoBadResponseError, ZohoUnavailableError

SCOPE = "openid email profile"
READ_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class ZohoIdentity:
    """Who Zoho says signed in."""

    zuid: str
    email: str
    email_verified: bool
    first_name: str
    last_name: str


def signin_configured() -> bool:
    return bool(settings.ZOHO_LOGIN_CLIENT_ID and settings.ZOHO_LOGIN_CLIENT_SECRET)


def _accounts_url() -> str:
    return str(settings.ZOHO_ACCOUNTS_URL).rstrip("/")


def authorize_url(*, redirect_uri: str, state: str) -> str:
    """Where to send the browser: Zoho's login and consent page."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.ZOHO_LOGIN_CLIENT_ID,
            "scope": SCOPE,
            "redirect_uri": redirect_uri,
            "state": state,
            "prompt": "select_account",
        }
    )
    return f"{_accounts_url()}/oauth/v2/auth?{query}"


def identity_for_code(*, code: str, redirect_uri: str) -> ZohoIdentity:
    """Exchange the grant code and read the person's claims.

    ZohoAuthError: Zoho refused the code (used, expired, another redirect URI) or the client.
    ZohoUnavailableError: Zoho could not be reached. ZohoBadResponseError: not the
    documented JSON.
    """
    token = _post_token(
        {
            "grant_type": "authorization_code",
            "client_id": settings.ZOHO_LOGIN_CLIENT_ID,
            "client_secret": settings.ZOHO_LOGIN_CLIENT_SECRET,
            "redirect_uri": redirect_uri,
            "code": code,
        }
    )
    access_token = token.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        error = token.get("error")
        if isinstance(error, str):
            # Zoho answers bad codes and clients with HTTP 200 and {"error": ...}.
            raise ZohoAuthError(f"Zoho refused the sign-in code: {error}")
        raise ZohoBadResponseError("Zoho's token answer has no access_token")
    id_claims = _id_token_claims(token.get("id_token"))
    info = _user_info(access_token)
    if id_claims and str(id_claims.get("sub")) != str(info.get("sub")):
        raise ZohoBadResponseError("Zoho's id_token and user info name different people")
    return _identity({**id_claims, **{k: v for k, v in info.items() if v is not None}})


def _id_token_claims(id_token: object) -> dict[str, Any]:
    """The payload of the token answer's id_token ({} without one), issued for this client."""
    if id_token is None:
        return {}
    parts = id_token.split(".") if isinstance(id_token, str) else []
    if len(parts) != 3:
        raise ZohoBadResponseError("Zoho's id_token is not a JWT")
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError):
        raise ZohoBadResponseError("Zoho's id_token payload is unreadable") from None
    if not isinstance(claims, dict):
        raise ZohoBadResponseError("Zoho's id_token payload is not an object")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if settings.ZOHO_LOGIN_CLIENT_ID not in audiences:
        raise ZohoAuthError("Zoho's id_token was issued to another client")
    return claims


def _post_token(form: dict[str, str]) -> dict[str, Any]:
    try:
        response = requests.post(
            f"{_accounts_url()}/oauth/v2/token",
            data=form,
            timeout=(settings.ZOHO_CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
        )
    except requests.RequestException as exc:
        raise ZohoUnavailableError(
            f"Zoho's accounts server did not answer: {type(exc).__name__}"
        ) from None
    if response.status_code >= 500:
        raise ZohoUnavailableError(f"Zoho's accounts server answered {response.status_code}")
    return _json_object(response)


def _user_info(access_token: str) -> dict[str, Any]:
    try:
        response = requests.get(
            f"{_accounts_url()}/oauth/v2/userinfo",
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=(settings.ZOHO_CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
        )
    except requests.RequestException as exc:
        raise ZohoUnavailableError(
            f"Zoho's accounts server did not answer: {type(exc).__name__}"
        ) from None
    if response.status_code in (401, 403):
        raise ZohoAuthError(f"Zoho refused the access token ({response.status_code})")
    if response.status_code >= 400:
        raise ZohoUnavailableError(f"Zoho's user info answered {response.status_code}")
    return _json_object(response)


def _identity(claims: dict[str, Any]) -> ZohoIdentity:
    sub, email = claims.get("sub"), claims.get("email")
    if not isinstance(sub, str | int) or not isinstance(email, str) or "@" not in email:
        raise ZohoBadResponseError("Zoho's user info has no sub or e-mail address")
    verified = claims.get("email_verified")
    return ZohoIdentity(
        zuid=str(sub),
        email=email.strip(),
        # Only an explicit true counts ("true" as a string too: some providers send one).
        email_verified=verified is True or verified == "true",
        first_name=_text(claims.get("given_name") or claims.get("first_name")),
        last_name=_text(claims.get("family_name") or claims.get("last_name")),
    )


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise ZohoBadResponseError(
            f"Zoho's accounts server answered {response.status_code} without JSON"
        ) from None
    if not isinstance(body, dict):
        raise ZohoBadResponseError(
            "Zoho's accounts server answered with JSON that is not an object"
        )
    return body


def _text(value: object) -> str:
    return value.strip()[:150] if isinstance(value, str) else ""
