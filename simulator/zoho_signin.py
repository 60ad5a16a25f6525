"""Sign in with Zoho, simulated: the accounts server's consent page, grant codes and user info.

`GET /oauth/v2/auth` shows a small page listing the org's people; choosing one redirects the
browser back to `redirect_uri` with a one-time `code` and the `state`, as Zoho does after
consent ("Deny" sends `error=access_denied`). The token endpoint (simulator.zoho_oauth)
exchanges the code for an access token when the same `redirect_uri` comes with it, and
`GET /oauth/v2/userinfo` answers with that person's OpenID Connect claims: `sub`, `email`,
`email_verified`, `name`, `given_name`, `family_name`. The token answer carries the same
claims in an `id_token` (its signature is a placeholder: the simulator has no keys).
"""

from __future__ import annotations

import base64
import html
import json
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from simulator.clock import SimulatorClock
from simulator.dataset import users
from simulator.http import Request, Response
from simulator.zoho_oauth import OAuthClient

# Zoho's grant codes are short-lived; one that is not exchanged within this is refused.
CODE_LIFETIME = timedelta(minutes=2)
DEMO_DOMAIN = "pulse-demo.example.com"


@dataclass(frozen=True)
class ZohoPerson:
    """A Zoho account of the simulated org, as its user info describes it."""

    zuid: str
    email: str
    first_name: str
    last_name: str
    email_verified: bool = True

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def claims(self) -> dict[str, object]:
        return {
            "sub": self.zuid,
            "email": self.email,
            "email_verified": self.email_verified,
            "name": self.name,
            "given_name": self.first_name,
            "family_name": self.last_name,
        }


@dataclass(frozen=True)
class SignInGrant:
    zuid: str
    client_id: str
    redirect_uri: str
    expires_at: datetime


def org_people() -> list[ZohoPerson]:
    """The deal owners (verified), one person whose e-mail Zoho has not verified, and a
    guest from another company."""
    people = []
    for index, user in enumerate(users()):
        first, _, last = user["name"].partition(" ")
        people.append(ZohoPerson(str(60_012_345_000 + index), user["email"], first, last))
    people.append(ZohoPerson("60012345900", f"new.starter@{DEMO_DOMAIN}", "New", "Starter", False))
    people.append(ZohoPerson("60012345901", "sam.guest@partner.example.net", "Sam", "Guest"))
    return people


class ZohoSignIn:
    """The consent page and user info of the simulated accounts server."""

    def __init__(
        self, *, clock: SimulatorClock, oauth: OAuthClient, people: list[ZohoPerson] | None = None
    ) -> None:
        self.clock = clock
        self.oauth = oauth
        self.people = people if people is not None else org_people()
        self._grants: dict[str, SignInGrant] = {}
        self._lock = threading.Lock()
        # Off: user info leaves out email_verified, which then only the id_token carries.
        self.userinfo_has_email_verified = True
        # The audience written into id_tokens; None: the client the code was issued to.
        self.id_token_audience: str | None = None

    def person(self, *, zuid: str = "", email: str = "") -> ZohoPerson | None:
        for person in self.people:
            if (zuid and person.zuid == zuid) or (email and person.email == email):
                return person
        return None

    def add_person(self, person: ZohoPerson) -> None:
        self.people = [*(p for p in self.people if p.zuid != person.zuid), person]

    # --- the consent page ------------------------------------------------------------------

    def authorize_page(self, request: Request) -> Response:
        """GET /oauth/v2/auth: the people to sign in as (Zoho's login and consent, in one)."""
        problem = self._bad_request(request)
        if problem:
            return _page("Invalid request", f"<p>{html.escape(problem)}</p>", status=400)
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(request.arg(name) or "")}">'
            for name in ("client_id", "redirect_uri", "scope", "state", "response_type")
        )
        buttons = "".join(
            f'<li><button type="submit" name="zuid" value="{person.zuid}">'
            f"{html.escape(person.name)} <small>{html.escape(person.email)}"
            f"{'' if person.email_verified else ' (e-mail not verified)'}</small></button></li>"
            for person in self.people
        )
        body = (
            "<p>Pipeline Pulse asks to know your name and e-mail address. "
            "Choose who you are in this simulated Zoho org:</p>"
            f'<form method="post" action="/oauth/v2/auth">{hidden}<ul>{buttons}</ul>'
            '<p><button type="submit" name="deny" value="1">Deny</button></p></form>'
        )
        return _page("Sign in to Zoho (simulator)", body)

    def authorize_decision(self, request: Request) -> Response:
        """POST /oauth/v2/auth: back to the application with a code, or with access_denied."""
        problem = self._bad_request(request)
        if problem:
            return _page("Invalid request", f"<p>{html.escape(problem)}</p>", status=400)
        redirect_uri = request.arg("redirect_uri") or ""
        state = request.arg("state") or ""
        if request.arg("deny"):
            return _redirect(redirect_uri, {"error": "access_denied", "state": state})
        person = self.person(zuid=request.arg("zuid") or "")
        if person is None:
            return _page("Invalid request", "<p>Choose a person.</p>", status=400)
        code = self.issue_code(person, redirect_uri=redirect_uri)
        base = f"http://{request.header('host') or '127.0.0.1'}"
        return _redirect(
            redirect_uri,
            {"state": state, "code": code, "location": "us", "accounts-server": base},
        )

    def issue_code(self, person: ZohoPerson, *, redirect_uri: str) -> str:
        """A one-time grant code for `person` (tests use it to skip the page)."""
        code = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        with self._lock:
            self._grants[code] = SignInGrant(
                zuid=person.zuid,
                client_id=self.oauth.client_id,
                redirect_uri=redirect_uri,
                expires_at=self.clock.now() + CODE_LIFETIME,
            )
        return code

    def redeem(self, code: str, *, redirect_uri: str) -> str | None:
        """The person's ZUID for a sign-in code used once, in time, with its redirect URI."""
        with self._lock:
            grant = self._grants.pop(code, None)
        if grant is None or grant.redirect_uri != redirect_uri:
            return None
        if self.clock.now() >= grant.expires_at:
            return None
        return grant.zuid

    def is_sign_in_code(self, code: str) -> bool:
        with self._lock:
            return code in self._grants

    def _bad_request(self, request: Request) -> str | None:
        if request.arg("response_type") != "code":
            return "response_type must be code."
        if request.arg("client_id") != self.oauth.client_id:
            return "Invalid client: this client_id is not registered."
        redirect = urlsplit(request.arg("redirect_uri") or "")
        if redirect.scheme not in ("http", "https") or not redirect.netloc:
            return "Invalid redirect_uri."
        if "email" not in (request.arg("scope") or "").replace(",", " ").split():
            return "The scope must include email."
        return None

    def id_token(self, zuid: str, issuer: str) -> str:
        """The id_token of a sign-in: header.payload.signature, base64url, as Zoho's."""
        person = self.person(zuid=zuid)
        now = int(self.clock.now().timestamp())
        claims = {
            "iss": issuer,
            "aud": self.id_token_audience or self.oauth.client_id,
            "iat": now,
            "exp": now + 3600,
            **(person.claims() if person else {"sub": zuid}),
        }
        header = {"kid": "simulator", "typ": "JWT", "alg": "RS256"}
        return ".".join(
            _b64(part)
            for part in (json.dumps(header).encode(), json.dumps(claims).encode(), b"unsigned")
        )

    # --- user info ---------------------------------------------------------------------------

    def user_info(self, request: Request, *, zuid: str | None) -> Response:
        """GET /oauth/v2/userinfo for the person the bearer token was issued to."""
        person = self.person(zuid=zuid) if zuid else None
        if person is None:
            return Response.json(
                {"error": "invalid_token"},
                status=401,
                **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        claims = person.claims()
        if not self.userinfo_has_email_verified:
            claims.pop("email_verified")
        return Response.json(claims)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _redirect(uri: str, params: dict[str, str]) -> Response:
    separator = "&" if urlsplit(uri).query else "?"
    return Response(302, b"", {"Location": uri + separator + urlencode(params)})


def _page(title: str, body: str, *, status: int = 200) -> Response:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem">'
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Response(status, document.encode(), {"Content-Type": "text/html; charset=utf-8"})
