"""A local Zoho CRM (v8 Deals API and OAuth) that follows the documented wire format.

The demo and the benchmarks sync from it and the tests run the real client against it over
HTTP. Besides the API it has test hooks: a clock, deal edits, additions and deletions,
malformed records, token expiry, and the fault plan every simulator inherits. With
`activity=True` its sales team edits a few deals between syncs (simulator.zoho_activity).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from simulator.clock import SimulatorClock
from simulator.dataset import DealFactory, zoho_time
from simulator.faults import Fault
from simulator.http import Request, Response
from simulator.server import SimulatedApi
from simulator.zoho_activity import ACTIVITY_EVERY, OrgActivity
from simulator.zoho_oauth import OAuthClient, TokenBook
from simulator.zoho_params import (
    MAX_PER_PAGE,
    bad_param,
    deals_query,
    int_param,
    since_header,
    zoho_error,
    zoho_json,
)
from simulator.zoho_settings import deals_fields, settings_request_error
from simulator.zoho_signin import ZohoSignIn
from simulator.zoho_store import DealStore, SortKey
from simulator.zoho_updates import handle_update
from simulator.zoho_watch import WatchBook

DISCRETE_PAGE_LIMIT = 2000  # records reachable with `page`; beyond, only with page_token
MAX_IDS = 100  # ids one Get Records call may ask for
PAGE_TOKEN_LIFETIME = timedelta(hours=24)
MALFORMED_KINDS = (
    "bad_date",
    "long_name",
    "missing_amount",
    "unknown_currency",
    "negative_amount",
    "bad_probability",
)


@dataclass(frozen=True)
class _PageToken:
    binding: tuple[object, ...]
    cursor: SortKey
    page: int
    expires: datetime


class ZohoSimulator(SimulatedApi):
    """Zoho CRM for one org: accounts server and API domain on the same local port."""

    name = "zoho"

    def __init__(
        self,
        *,
        deals: int = 200,
        seed: int = 7,
        clock: SimulatorClock | None = None,
        oauth: OAuthClient | None = None,
        token_lifetime_seconds: int = 3600,
        token_mint_limit: int = 10,
        activity: bool = False,
        activity_every: timedelta = ACTIVITY_EVERY,
    ) -> None:
        super().__init__()
        self.clock = clock or SimulatorClock()
        self.oauth = oauth or OAuthClient()
        self.tokens = TokenBook(
            clock=self.clock,
            oauth=self.oauth,
            lifetime_seconds=token_lifetime_seconds,
            mint_limit=token_mint_limit,
        )
        self.seed = seed
        self._factory = DealFactory(seed=seed, now=self.clock.now())
        self.store = DealStore(self._factory.deals(deals), clock=self.clock)
        # The sales team editing deals between syncs (simulator.zoho_activity); off in tests.
        self.activity = (
            OrgActivity(
                store=self.store,
                factory=self._factory,
                clock=self.clock,
                seed=seed,
                every=activity_every,
            )
            if activity
            else None
        )
        self._page_tokens: dict[str, _PageToken] = {}
        self._org_names: dict[str, str] = {}  # fields this org names differently (rename_field)
        self._tokens_lock = threading.Lock()
        # Sign in with Zoho: the consent page, and the user info of whoever signed in.
        self.sign_in = ZohoSignIn(clock=self.clock, oauth=self.oauth)
        self.tokens.redeem_sign_in = lambda code, uri: self.sign_in.redeem(code, redirect_uri=uri)
        self.tokens.is_sign_in_code = self.sign_in.is_sign_in_code
        self.tokens.id_token_for = self.sign_in.id_token
        self.router.add("GET", "/oauth/v2/auth", self.sign_in.authorize_page)
        self.router.add("POST", "/oauth/v2/auth", self.sign_in.authorize_decision)
        self.router.add("GET", "/oauth/v2/userinfo", self.get_user_info)
        self.router.add("POST", "/oauth/v2/token", self.tokens.handle)
        self.router.add("GET", "/crm/v8/Deals", self.get_deals)
        self.router.add("PUT", "/crm/v8/Deals", self.update_deals)
        self.router.add("GET", "/crm/v8/Deals/deleted", self.get_deleted_deals)
        self.router.add("GET", "/crm/v8/Deals/{deal_id}", self.get_deal)
        self.router.add("GET", "/crm/v8/settings/fields", self.get_fields)
        # Notification APIs: channels, and callbacks when the org's deals change.
        self.watch = WatchBook(clock=self.clock)
        self.store.listeners.append(self.watch.deals_changed)
        for method, handler in (
            ("POST", self.watch.enable),
            ("PATCH", self.watch.update),
            ("GET", self.watch.details),
            ("DELETE", self.watch.disable),
        ):
            self.router.add(method, "/crm/v8/actions/watch", self._authorised(handler))
        # Orgs may withhold the settings scope; the sync must carry on without the metadata.
        self.settings_scope_granted = True
        # Zoho documents neither the order of Get Deleted Records nor whether `page` reaches
        # all of it: tests choose (newest first by default; a limit like Get Records' 2,000).
        self.deleted_newest_first = True
        self.deleted_page_limit: int | None = None
        # Update requests refused as a whole (refuse_requests_carrying, refuse_update_requests).
        self._poisoned: set[str] = set()
        self._refusals_left = 0

    @property
    def factory(self) -> DealFactory:
        """Where the org's new deals come from (its team's, and the test hooks')."""
        return self._factory

    # --- test hooks --------------------------------------------------------------------------

    def deals(self) -> list[dict[str, Any]]:
        """Every live deal in its full wire shape (copies), in id order."""
        return self.store.all()

    def deal(self, deal_id: str) -> dict[str, Any]:
        record = self.store.get(deal_id)
        if record is None:
            raise KeyError(deal_id)
        return record

    def modify_deal(self, deal_id: str, changes: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Change fields (by API name); Modified_Time becomes the clock's now."""
        return self.store.modify(deal_id, changes or {})

    def add_deals(self, count: int) -> list[str]:
        """New deals created (and modified) now, with ids above every existing one."""
        now = self.clock.now()
        return self.store.add(self._factory.deal(created=now) for _ in range(count))

    def delete_deals(self, deal_ids: Iterable[str], *, permanent: bool = False) -> None:
        self.store.delete(list(deal_ids), permanent=permanent)

    def restore_deals(self, deal_ids: Iterable[str]) -> list[str]:
        """Bring deals back from the recycle bin (modified now); those restored."""
        return self.store.restore(list(deal_ids))

    def inject_malformed(self, kind: str, deal_id: str | None = None) -> str:
        """Corrupt a deal (a new one by default) the way real orgs' data goes wrong."""
        corruptions: dict[str, dict[str, Any]] = {
            "bad_date": {"Closing_Date": "2025-02-30"},
            "long_name": {"Deal_Name": "Regional rollout " + "x" * 140},
            "missing_amount": {"Amount": None},
            "unknown_currency": {"Currency": "DOGE"},
            "negative_amount": {"Amount": Decimal("-1500.00")},
            "bad_probability": {"Probability": 140},
        }
        if kind not in corruptions:
            raise ValueError(f"unknown malformation {kind!r}; one of {', '.join(corruptions)}")
        target = deal_id or self.add_deals(1)[0]
        self.store.modify(target, corruptions[kind])
        return target

    def rename_field(self, api_name: str, org_api_name: str) -> None:
        """This org calls the field `api_name` by another API name, as orgs name their custom
        fields: Get Records serves it and Update Records accepts it only as `org_api_name`.
        The test hooks (deals, modify_deal) keep the data set's names."""
        taken = org_api_name in self._org_names.values() or self.store.select(
            lambda record: org_api_name in record
        )
        if taken:
            raise ValueError(f"{org_api_name} already names a field of this org")
        self._org_names[api_name] = org_api_name

    def _field_named(self, org_api_name: str) -> str | None:
        """The data set's name of the field this org calls `org_api_name` (None: no such)."""
        for api_name, renamed in self._org_names.items():
            if renamed == org_api_name:
                return api_name
        return None if org_api_name in self._org_names else org_api_name

    def expire_tokens(self) -> None:
        self.tokens.expire_all()

    def environment(self, base_url: str) -> dict[str, str]:
        """The settings that point Pipeline Pulse at this simulator."""
        self.watch.base_url = base_url
        return {
            "ZOHO_ACCOUNTS_URL": base_url,
            "ZOHO_API_DOMAIN": base_url,
            "ZOHO_CLIENT_ID": self.oauth.client_id,
            "ZOHO_CLIENT_SECRET": self.oauth.client_secret,
            "ZOHO_REFRESH_TOKEN": self.oauth.refresh_token,
            # The simulator accepts the same client for Sign in with Zoho.
            "ZOHO_LOGIN_CLIENT_ID": self.oauth.client_id,
            "ZOHO_LOGIN_CLIENT_SECRET": self.oauth.client_secret,
        }

    def get_user_info(self, request: Request) -> Response:
        """GET /oauth/v2/userinfo with `Authorization: Bearer <a sign-in access token>`."""
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        zuid = (
            self.tokens.subject_of(token.strip())
            if scheme in ("Bearer", "Zoho-oauthtoken")
            else None
        )
        return self.sign_in.user_info(request, zuid=zuid)

    def render_fault(self, fault: Fault, request: Request) -> Response:
        """Faults with Zoho's error bodies; an UNAUTHORIZED fault really expires the tokens."""
        if fault in (Fault.RATE_LIMITED, Fault.RATE_LIMITED_NO_RETRY_AFTER):
            headers = {}
            if fault is Fault.RATE_LIMITED:
                headers["Retry-After"] = str(self.faults.retry_after_seconds)
            return zoho_error(
                429,
                "TOO_MANY_REQUESTS",
                "too many requests continuously; try again after some time",
                headers=headers,
            )
        if fault in (Fault.SERVER_ERROR, Fault.UNAVAILABLE):
            status = 500 if fault is Fault.SERVER_ERROR else 503
            return zoho_error(status, "INTERNAL_ERROR", "Internal server error occurred.")
        if fault is Fault.UNAUTHORIZED:
            self.expire_tokens()
            return zoho_error(401, "INVALID_TOKEN", "invalid oauth token")
        return super().render_fault(fault, request)

    # --- API ---------------------------------------------------------------------------------

    def _denied(self, request: Request) -> Response | None:
        header = request.header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme != "Zoho-oauthtoken" or not self.tokens.is_valid(token.strip()):
            return zoho_error(401, "INVALID_TOKEN", "invalid oauth token")
        return None

    def _authorised(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def answer(request: Request) -> Response:
            return self._denied(request) or handler(request)

        return answer

    def get_deal(self, request: Request) -> Response:
        """Get Record: one deal by id, all fields or those asked for."""
        if (denied := self._denied(request)) is not None:
            return denied
        deal_id = request.path_params.get("deal_id", "")
        record = self.store.get(deal_id)
        if record is None:
            return Response.empty(204)  # Zoho's answer for an id it does not (or no longer) have
        fields_arg = (request.arg("fields") or "").strip()
        if fields_arg:
            names = [name.strip() for name in fields_arg.split(",") if name.strip()]
            record = _project(record, [(name, self._field_named(name)) for name in names])
        return zoho_json({"data": [record]})

    def get_fields(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        refused = settings_request_error(request, scope_granted=self.settings_scope_granted)
        return refused or zoho_json(deals_fields())

    def get_deals(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        query = deals_query(request)
        if isinstance(query, Response):
            return query
        names, per_page, sort_by, sort_order, since = query
        ids_arg = request.arg("ids")
        if ids_arg is not None:
            return self._deals_by_id(ids_arg, names, sort_by, sort_order)
        token_arg = request.arg("page_token")
        if self.activity is not None and not token_arg:
            self.activity.catch_up()  # between listings, never in the middle of one
        with self.store.lock:
            if len(self.store) == 0:
                return Response.empty(204)
            view = self.store.view(sort_by, sort_order, since)
            if since is not None and not view.records:
                return Response.empty(304)
            if token_arg:
                state = self._page_token(token_arg, query)
                if isinstance(state, Response):
                    return state
                start, page, end_limit = view.index_after(state.cursor), state.page + 1, None
            else:
                page_number = int_param(request, "page", 1)
                if isinstance(page_number, Response):
                    return page_number
                page, start = page_number, (page_number - 1) * per_page
                if start >= DISCRETE_PAGE_LIMIT:
                    return zoho_error(
                        400,
                        "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                        "You can only get the first 2000 records without using page_token param",
                        {"limit": DISCRETE_PAGE_LIMIT},
                    )
                end_limit = DISCRETE_PAGE_LIMIT
            end = min(start + per_page, len(view.records), end_limit or len(view.records))
            if start >= end:
                return Response.empty(204)
            served = [(name, self._field_named(name)) for name in names]
            data = [_project(record, served) for record in view.records[start:end]]
            more = end < len(view.records)
            next_token = self._issue_page_token(query, view.keys[end - 1], page) if more else None
        expiry = zoho_time(self.clock.now() + PAGE_TOKEN_LIFETIME) if next_token else None
        # The cursor paging here only moves forward; Zoho sends the key with null then too.
        previous_page_token: str | None = None
        info = {
            "per_page": per_page,
            "count": len(data),
            "page": page,
            "sort_by": sort_by,
            "sort_order": sort_order,
            "more_records": more,
            "next_page_token": next_token,
            "previous_page_token": previous_page_token,
            "page_token_expiry": expiry,
            "call": False,
            "email": False,
        }
        return zoho_json({"data": data, "info": info})

    def _deals_by_id(
        self, ids_arg: str, names: tuple[str, ...], sort_by: str, sort_order: str
    ) -> Response:
        """Get Records with `ids`: those of the (at most 100) ids Zoho still has, one page."""
        wanted = {deal_id.strip() for deal_id in ids_arg.split(",") if deal_id.strip()}
        if not wanted:
            return bad_param("ids")
        if len(wanted) > MAX_IDS:
            return zoho_error(400, "LIMIT_EXCEEDED", "ids limit exceeded", {"limit": MAX_IDS})
        with self.store.lock:
            view = self.store.view(sort_by, sort_order, None)
            served = [(name, self._field_named(name)) for name in names]
            data = [_project(r, served) for r in view.records if r["id"] in wanted]
        if not data:
            return Response.empty(204)
        no_token: str | None = None  # one page: nothing before or after it
        info = {
            "per_page": len(data),
            "count": len(data),
            "page": 1,
            "sort_by": sort_by,
            "sort_order": sort_order,
            "more_records": False,
            "next_page_token": no_token,
            "previous_page_token": no_token,
            "page_token_expiry": no_token,
            "call": False,
            "email": False,
        }
        return zoho_json({"data": data, "info": info})

    def get_deleted_deals(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        deletion_type = request.arg("type") or "all"
        if deletion_type not in ("all", "recycle", "permanent"):
            return bad_param("type")
        page = int_param(request, "page", 1)
        if isinstance(page, Response):
            return page
        per_page = int_param(request, "per_page", MAX_PER_PAGE, maximum=MAX_PER_PAGE)
        if isinstance(per_page, Response):
            return per_page
        since = since_header(request)
        if isinstance(since, Response):
            return since
        if self.store.deleted_count(deletion_type) == 0:
            return Response.empty(204)
        rows = self.store.deleted(deletion_type, since, newest_first=self.deleted_newest_first)
        if not rows:
            return Response.empty(304)
        start = (page - 1) * per_page
        limit = self.deleted_page_limit
        if limit is not None and start >= limit:
            return zoho_error(
                400,
                "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                f"You can only get the first {limit} records without using page_token param",
                {"limit": limit},
            )
        chunk = rows[start : start + per_page]
        if not chunk:
            return Response.empty(204)
        info = {
            "per_page": per_page,
            "count": len(chunk),
            "page": page,
            "more_records": start + per_page < len(rows),
        }
        return zoho_json({"data": chunk, "info": info})

    def update_deals(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        if self._refuse_whole(request):
            # One error for the request, no answer per record: as Zoho answers a body it
            # cannot read at all.
            return zoho_error(400, "INVALID_DATA", "body", {"expected_data_type": "jsonobject"})
        return handle_update(request, self.store, field_named=self._field_named)

    def refuse_requests_carrying(self, deal_id: str) -> None:
        """Every Update Records call that carries this deal is refused as a whole (HTTP 400
        with one error and no answer per record)."""
        self._poisoned.add(deal_id)

    def refuse_update_requests(self, count: int) -> None:
        """The next `count` Update Records calls are refused as a whole, whatever they carry."""
        with self._tokens_lock:
            self._refusals_left += count

    def _refuse_whole(self, request: Request) -> bool:
        with self._tokens_lock:
            if self._refusals_left:
                self._refusals_left -= 1
                return True
        if not self._poisoned:
            return False
        try:
            records = request.json().get("data") or []
        except (ValueError, AttributeError):
            return False
        return any(isinstance(r, dict) and r.get("id") in self._poisoned for r in records)

    # --- page tokens -------------------------------------------------------------------------

    def _issue_page_token(self, binding: tuple[object, ...], cursor: SortKey, page: int) -> str:
        token = secrets.token_hex(24)
        now = self.clock.now()
        with self._tokens_lock:
            # Issued in order with one lifetime, so the oldest expire first: dropping them from
            # the front keeps each page's cost flat, where sweeping every token made a
            # million-deal pull (5,000 pages, several pulls a day) slow down as it went.
            # Tokens the clock moved around are still refused on use once expired.
            tokens = self._page_tokens
            while tokens and (oldest := next(iter(tokens))) and tokens[oldest].expires <= now:
                del tokens[oldest]
            tokens[token] = _PageToken(binding, cursor, page, now + PAGE_TOKEN_LIFETIME)
        return token

    def _page_token(self, token: str, binding: tuple[object, ...]) -> _PageToken | Response:
        with self._tokens_lock:
            state = self._page_tokens.get(token)
        details = {"param_name": "page_token"}
        if state is None:
            return zoho_error(400, "INVALID_DATA", "invalid data", details)
        if state.expires <= self.clock.now():
            return zoho_error(400, "EXPIRED_VALUE", "the page_token has expired", details)
        if state.binding != binding:
            return zoho_error(
                400,
                "TOKEN_BOUND_DATA_MISMATCH",
                "the page_token was issued for other query parameters",
                details,
            )
        return state


def _project(record: dict[str, Any], served: list[tuple[str, str | None]]) -> dict[str, Any]:
    """Only the requested fields, plus id, as Zoho answers; each under the name it was asked
    for (`served`: the org's API name and the data set's, None for no such field)."""
    projected = {"id": record["id"]}
    for api_name, field in served:
        if field is not None and field in record:
            projected[api_name] = record[field]
    return projected
