"""Zoho's OAuth token endpoint, simulated: refresh-token and grant-code flows, short tokens.

Grant codes of a browser sign-in (simulator.zoho_signin) are exchanged here too: the token
is bound to the person who signed in, for the user-info endpoint, and does not count against
the refresh-token minting limit.

Like Zoho's accounts server it answers bad credentials with HTTP 200 and an `error`, and
refuses an eleventh token within ten minutes with HTTP 400 "Access Denied".
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from simulator.clock import SimulatorClock
from simulator.http import Request, Response

GRANTED_SCOPES = "ZohoCRM.modules.ALL ZohoCRM.settings.ALL"
MINT_WINDOW = timedelta(minutes=10)
BEARER = "Bearer"


@dataclass
class OAuthClient:
    """The credentials the simulated accounts server accepts (printed by run_simulator)."""

    client_id: str = "1000.PIPELINEPULSESIMULATOR00000"
    client_secret: str = "simulator-client-secret-0123456789abcdef"  # noqa: S105
    refresh_token: str = "1000.simulator-refresh-token.0123456789abcdef"  # noqa: S105
    grant_codes: set[str] = field(default_factory=lambda: {"1000.simulator-grant-code"})
    redirect_uri: str = "http://127.0.0.1:8000/zoho/callback"


class TokenBook:
    """Access tokens issued and when they expire, on the simulator clock."""

    def __init__(
        self,
        *,
        clock: SimulatorClock,
        oauth: OAuthClient,
        lifetime_seconds: int = 3600,
        mint_limit: int = 10,
    ) -> None:
        self.clock = clock
        self.oauth = oauth
        self.lifetime_seconds = lifetime_seconds
        self.mint_limit = mint_limit
        self.minted = 0
        self._lock = threading.Lock()
        self._expiry: dict[str, datetime] = {}
        self._mints: deque[datetime] = deque()
        self._subjects: dict[str, str] = {}  # sign-in access token -> the person's ZUID
        # (code, redirect_uri) -> the ZUID of a browser sign-in's code, or None.
        self.redeem_sign_in: Callable[[str, str], str | None] | None = None
        # (ZUID, issuer URL) -> the id_token returned with a sign-in's access token.
        self.id_token_for: Callable[[str, str], str] | None = None
        self.is_sign_in_code: Callable[[str], bool] = lambda code: False

    def is_valid(self, token: str | None) -> bool:
        if not token:
            return False
        with self._lock:
            expiry = self._expiry.get(token)
        return expiry is not None and self.clock.now() < expiry

    def subject_of(self, token: str | None) -> str | None:
        """The ZUID a valid sign-in access token was issued to."""
        if not self.is_valid(token):
            return None
        with self._lock:
            return self._subjects.get(token or "")

    def expire_all(self) -> None:
        """Every issued token stops working now, as if an hour had passed."""
        with self._lock:
            now = self.clock.now()
            self._expiry = dict.fromkeys(self._expiry, now)

    def handle(self, request: Request) -> Response:
        """POST /oauth/v2/token, parameters in the form body or the query string."""
        grant_type = request.arg("grant_type")
        oauth = self.oauth
        if request.arg("client_id") != oauth.client_id or not secrets.compare_digest(
            request.arg("client_secret") or "", oauth.client_secret
        ):
            return Response.json({"error": "invalid_client"})
        if grant_type == "refresh_token":
            if not secrets.compare_digest(request.arg("refresh_token") or "", oauth.refresh_token):
                return Response.json({"error": "invalid_code"})
            return self._mint(request, include_refresh_token=False)
        if grant_type == "authorization_code":
            code = request.arg("code") or ""
            if self.redeem_sign_in is not None and self.is_sign_in_code(code):
                zuid = self.redeem_sign_in(code, request.arg("redirect_uri") or "")
                if zuid is None:
                    return Response.json({"error": "invalid_code"})
                issuer = f"http://{request.header('host') or '127.0.0.1'}"
                id_token = self.id_token_for(zuid, issuer) if self.id_token_for else None
                return self._mint(
                    request,
                    include_refresh_token=False,
                    subject=zuid,
                    extra={"id_token": id_token} if id_token else None,
                )
            with self._lock:
                known = code in oauth.grant_codes
                oauth.grant_codes.discard(code)  # a grant code works once
            if not known:
                return Response.json({"error": "invalid_code"})
            return self._mint(request, include_refresh_token=True)
        return Response.json({"error": "unsupported_grant_type"})

    def _mint(
        self,
        request: Request,
        *,
        include_refresh_token: bool,
        subject: str | None = None,
        extra: dict[str, object] | None = None,
    ) -> Response:
        now = self.clock.now()
        with self._lock:
            while self._mints and now - self._mints[0] >= MINT_WINDOW:
                self._mints.popleft()
            if subject is None and len(self._mints) >= self.mint_limit:
                return Response.json(
                    {
                        "error_description": "You have made too many requests continuously. "
                        "Please try again after some time.",
                        "error": "Access Denied",
                        "status": "failure",
                    },
                    status=400,
                )
            token = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
            self._expiry[token] = now + timedelta(seconds=self.lifetime_seconds)
            if subject is None:
                self._mints.append(now)
                self.minted += 1
            else:
                self._subjects[token] = subject
        body: dict[str, object] = {
            "access_token": token,
            "scope": GRANTED_SCOPES,
            "api_domain": f"http://{request.header('host') or '127.0.0.1'}",
            "token_type": BEARER,
            "expires_in": self.lifetime_seconds,
        }
        if include_refresh_token:
            body["refresh_token"] = self.oauth.refresh_token
        body.update(extra or {})
        return Response.json(body)
