"""The Zoho CRM v8 client: the one module that knows Zoho's URLs and how to page through them.

Everything else in Pipeline Pulse sees typed records (records.py). JSON shapes are turned into
records by parsing.py, HTTP retries live in http.py and access tokens in auth.py; all three
serve this client only.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import requests
from django.conf import settings

from opportunities.deal_fields import zoho_number_carries
from opportunities.records import CrmStageRecord
from pipeline_pulse.retrying_http import RetryPolicy
from sync.zoho.auth import AccessTokens, OAuthCredentials
from sync.zoho.errors import (
    ZohoApiError,
    ZohoAuthError,
    ZohoBadResponseError,
    ZohoDeletedListTruncatedError,
    ZohoNotConfiguredError,
    scrub,
)
from sync.zoho.field_map import FieldMap, FieldMapError
from sync.zoho.http import Transport, WireResponse
from sync.zoho.parsing import (
    DealParser,
    format_zoho_datetime,
    parse_deleted,
    parse_stage_metadata,
    parse_zoho_datetime,
    wire_value,
)
from sync.zoho.records import (
    NOT_SENT,
    DealPage,
    DealRecord,
    DealUpdate,
    DealUpdateResult,
    DeletedDeal,
    MalformedDeal,
)
from sync.zoho.watch import WATCH_PATH, WatchResult, WatchSubscription, parse_watch_answer

logger = logging.getLogger(__name__)

DEALS_PATH = "/crm/v8/Deals"
DELETED_DEALS_PATH = "/crm/v8/Deals/deleted"
FIELDS_PATH = "/crm/v8/settings/fields"
PER_PAGE = 200
MAX_UPDATE_BATCH = 100
MAX_IDS_PER_GET = 100  # Get Records' `ids`
# Zoho's deleted-record times have one-second resolution: a re-query re-reads the last second.
DELETED_OVERLAP = timedelta(seconds=1)
PAGE_LIMIT_CODE = "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
_NOTHING = frozenset({204, 304})


class ZohoClient:
    """Reads deals and deletions from Zoho CRM and pushes edits back.

    `api_calls` counts every HTTP request sent to the API domain (retries included, token
    refreshes not): what a run cost in API credits, for run statistics and benchmarks.
    """

    def __init__(
        self,
        *,
        accounts_url: str,
        api_domain: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        field_map: FieldMap | None = None,
        home_currency: str = "SGD",
        retry_policy: RetryPolicy | None = None,
        token_refresh_margin: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self.api_domain = api_domain.rstrip("/")
        self.field_map = field_map or FieldMap()
        self.home_currency = home_currency.upper()
        self._parser = DealParser(field_map=self.field_map, home_currency=self.home_currency)
        credentials = OAuthCredentials(
            accounts_url=accounts_url.rstrip("/"),
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
        )
        self._transport = Transport(
            policy=retry_policy or RetryPolicy(),
            secrets=lambda: [client_secret, refresh_token, *self.tokens.recent],
            sleep=sleep,
            session=session or requests.Session(),
        )
        self.tokens = AccessTokens(
            credentials=credentials,
            transport=self._transport,
            refresh_margin=token_refresh_margin,
        )
        self._fields = self.field_map.fields_parameter()

    @staticmethod
    def missing_credentials() -> list[str]:
        """The credential settings left unset: none means Zoho is configured."""
        names = ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN")
        return [name for name in names if not getattr(settings, name, "")]

    @classmethod
    def from_settings(cls) -> ZohoClient:
        missing = cls.missing_credentials()
        if missing:
            raise ZohoNotConfiguredError(
                f"Zoho CRM is not configured: set {', '.join(missing)} (see docs/zoho-and-sync.md)"
            )
        # The org-specific names: defaults, then ZOHO_FIELD_MAP, then the admin's rows, read
        # now, so a changed mapping applies from the next run. Imported here because
        # sync.models imports this package (for the API-name rule): a cycle at module level.
        from sync.field_mappings import field_map_in_force

        try:
            field_map = field_map_in_force()
        except FieldMapError as exc:
            raise ZohoNotConfiguredError(
                f"{exc} (see docs/zoho-and-sync.md, Field mapping)"
            ) from exc
        return cls(
            accounts_url=settings.ZOHO_ACCOUNTS_URL,
            api_domain=settings.ZOHO_API_DOMAIN,
            client_id=settings.ZOHO_CLIENT_ID,
            client_secret=settings.ZOHO_CLIENT_SECRET,
            refresh_token=settings.ZOHO_REFRESH_TOKEN,
            field_map=field_map,
            home_currency=settings.ZOHO_HOME_CURRENCY,
            retry_policy=RetryPolicy(
                max_attempts=settings.ZOHO_MAX_ATTEMPTS,
                backoff_base=settings.ZOHO_BACKOFF_BASE_SECONDS,
                backoff_max=settings.ZOHO_BACKOFF_MAX_SECONDS,
                connect_timeout=settings.ZOHO_CONNECT_TIMEOUT_SECONDS,
                read_timeout=settings.ZOHO_READ_TIMEOUT_SECONDS,
            ),
            token_refresh_margin=settings.ZOHO_TOKEN_REFRESH_MARGIN_SECONDS,
        )

    @property
    def api_calls(self) -> int:
        return self._transport.api_calls

    # --- reads -------------------------------------------------------------------------------

    def iter_deal_pages(self, *, modified_since: datetime | None = None) -> Iterator[DealPage]:
        """Every deal (modified_since=None, in id order) or those modified after a moment
        (in Modified_Time order), one page of up to 200 at a time; nothing on 204/304.

        Pages past the first 2,000 records are reached through `page_token`.
        """
        params: dict[str, str] = {
            "fields": self._fields,
            "per_page": str(PER_PAGE),
            "sort_by": "id" if modified_since is None else "Modified_Time",
            "sort_order": "asc",
        }
        headers = {}
        if modified_since is not None:
            headers["If-Modified-Since"] = format_zoho_datetime(modified_since)
        page_token: str | None = None
        for page_number in itertools.count(1):
            paging = {"page_token": page_token} if page_token else {"page": str(page_number)}
            response = self._api(
                "GET",
                DEALS_PATH,
                operation=f"get deals page {page_number}",
                params={**params, **paging},
                headers=headers,
            )
            if response.status in _NOTHING:
                return
            data, info = self._page_parts(response, f"get deals page {page_number}")
            page = self._deal_page(data, more_records=bool(info.get("more_records")))
            yield page
            if not page.more_records:
                return
            next_token = info.get("next_page_token")
            if isinstance(next_token, str) and next_token:
                page_token = next_token
            elif page_number * PER_PAGE >= 2000:
                raise ZohoBadResponseError(
                    f"get deals page {page_number}: Zoho says more records follow but gave no "
                    "next_page_token, and pages past 2,000 records need one"
                )

    def _deal_page(self, data: list[Any], *, more_records: bool) -> DealPage:
        deals: list[DealRecord] = []
        malformed: list[MalformedDeal] = []
        for raw in data:
            parsed = self._parser.parse(raw)
            if isinstance(parsed, MalformedDeal):
                # A bad record is reported and skipped; it never costs the rest of the page.
                logger.warning("Zoho deal %s is malformed: %s", parsed.zoho_id, parsed.reason)
                malformed.append(parsed)
            else:
                deals.append(parsed)
        return DealPage(deals=deals, malformed=malformed, more_records=more_records)

    def get_deals(self, zoho_ids: Sequence[str]) -> DealPage:
        """These deals as Zoho has them now (Get Records with `ids`, 100 to a call); ids Zoho
        no longer has are simply absent."""
        deals: list[DealRecord] = []
        malformed: list[MalformedDeal] = []
        for start in range(0, len(zoho_ids), MAX_IDS_PER_GET):
            batch = zoho_ids[start : start + MAX_IDS_PER_GET]
            operation = f"get {len(batch)} deals by id"
            response = self._api(
                "GET",
                DEALS_PATH,
                operation=operation,
                params={"fields": self._fields, "ids": ",".join(batch)},
            )
            if response.status in _NOTHING:
                continue
            data, _ = self._page_parts(response, operation)
            page = self._deal_page(data, more_records=False)
            deals += page.deals
            malformed += page.malformed
        return DealPage(deals=deals, malformed=malformed, more_records=False)

    def get_deal(self, zoho_id: str) -> DealRecord | MalformedDeal | None:
        """One deal as Zoho has it now (Get Record), or None when Zoho no longer has it."""
        operation = f"get deal {zoho_id}"
        response = self._api(
            "GET",
            f"{DEALS_PATH}/{zoho_id}",
            operation=operation,
            params={"fields": self._fields},
            accept_error_statuses=frozenset({404}),
        )
        if response.status in _NOTHING or response.status == 404:
            return None
        data, _ = self._page_parts(response, operation)
        return self._parser.parse(data[0]) if data else None

    def stage_metadata(self) -> list[CrmStageRecord]:
        """The org's deal stages with their forecast types (Get Fields, module Deals).

        Needs the settings scope (ZohoCRM.settings.fields.READ); an org that did not grant it
        answers OAUTH_SCOPE_MISMATCH, raised as ZohoAuthError like any refusal.
        """
        operation = "get deal stage metadata"
        response = self._api("GET", FIELDS_PATH, operation=operation, params={"module": "Deals"})
        try:
            return parse_stage_metadata(
                response.body, stage_api_name=self.field_map.api_name("stage")
            )
        except ValueError as exc:
            raise ZohoBadResponseError(f"{operation}: {exc}") from None

    def iter_deleted_deals(self, *, since: datetime | None = None) -> Iterator[list[DeletedDeal]]:
        """Deals deleted in Zoho (recycle bin and permanently), one list per page, to the end
        of Zoho's list.

        Zoho may stop `page` short of the end, as it does for Get Records at 2,000 records.
        When it does and the list comes oldest first, the rest is asked for again from the
        last deletion time read (that second re-read: a deal may come twice). Newest first,
        the rest cannot be reached: ZohoDeletedListTruncatedError says so, and the caller
        must find those deletions another way.
        """
        while True:
            read: list[datetime] = []
            try:
                for deleted in self._deleted_pages(since):
                    read += [item.deleted_time for item in deleted]
                    yield deleted
                return
            except ZohoApiError as exc:
                if exc.code != PAGE_LIMIT_CODE or not read:
                    raise
                oldest_first = all(a <= b for a, b in itertools.pairwise(read))
                resume = read[-1] - DELETED_OVERLAP
                if not oldest_first or (since is not None and resume <= since):
                    raise ZohoDeletedListTruncatedError(
                        f"get deleted deals: Zoho lists more than {len(read)} deletions since "
                        f"{format_zoho_datetime(since) if since else 'ever'}, newest first or "
                        "within one second, and its pages stop there"
                    ) from exc
                since = resume

    def _deleted_pages(self, since: datetime | None) -> Iterator[list[DeletedDeal]]:
        headers = {}
        if since is not None:
            headers["If-Modified-Since"] = format_zoho_datetime(since)
        for page_number in itertools.count(1):
            operation = f"get deleted deals page {page_number}"
            response = self._api(
                "GET",
                DELETED_DEALS_PATH,
                operation=operation,
                params={"type": "all", "page": str(page_number), "per_page": str(PER_PAGE)},
                headers=headers,
            )
            if response.status in _NOTHING:
                return
            data, info = self._page_parts(response, operation)
            deleted: list[DeletedDeal] = []
            for raw in data:
                try:
                    deleted.append(parse_deleted(raw))
                except ValueError as exc:
                    logger.warning("Zoho deleted-record entry skipped: %s", exc)
            yield deleted
            if not info.get("more_records"):
                return

    # --- notifications -----------------------------------------------------------------------

    def watch_deals(self, subscription: WatchSubscription, *, renew: bool = False) -> WatchResult:
        """Ask Zoho to call `notify_url` when deals are created, edited or deleted (Enable
        Notifications, POST), or move an existing channel's expiry (`renew`: Update Specific
        Information, PATCH). A channel Zoho no longer knows is enabled again.

        Needs the scope ZohoCRM.notifications.ALL (or .CREATE and .UPDATE).
        """
        body = json.dumps(subscription.as_json(), separators=(",", ":")).encode()
        method = "PATCH" if renew else "POST"
        operation = "renew the deals notification channel" if renew else "watch deals"
        response = self._api(
            method,
            WATCH_PATH,
            operation=operation,
            headers={"Content-Type": "application/json"},
            data=body,
            accept_error_statuses=frozenset({400}),
        )
        try:
            answer = parse_watch_answer(response.body)
        except ValueError as exc:
            if response.status >= 300:
                raise self._api_error(response, operation) from None
            raise ZohoBadResponseError(f"{operation}: {exc}") from None
        if isinstance(answer, WatchResult):
            return answer
        code, message = answer
        if renew and code == "NOT_SUBSCRIBED":
            return self.watch_deals(subscription, renew=False)
        raise ZohoApiError(
            http_status=response.status,
            code=code,
            message=message,
            details={},
            operation=operation,
        )

    # --- writes ------------------------------------------------------------------------------

    def update_deals(self, updates: Sequence[DealUpdate]) -> list[DealUpdateResult]:
        """Push local edits: batches of up to 100 per PUT, one result per update, in order.

        Updates are grouped by their `unmodified_since`, since Zoho takes one
        If-Unmodified-Since header per request. A deal changed in Zoho after that moment
        comes back with code ALREADY_MODIFIED; invalid values with INVALID_DATA. An update
        whose values cannot be written as Zoho's JSON is not sent (code NOT_SENT) and costs
        the others nothing.
        """
        results: dict[int, DealUpdateResult] = {}
        groups: dict[datetime | None, list[tuple[int, bytes]]] = {}
        for index, update in enumerate(updates):
            try:
                record = self._update_json(update)
            except ValueError as exc:
                results[index] = _not_sent(update, str(exc))
                continue
            groups.setdefault(update.unmodified_since, []).append((index, record))
        for unmodified_since, entries in groups.items():
            for start in range(0, len(entries), MAX_UPDATE_BATCH):
                batch = entries[start : start + MAX_UPDATE_BATCH]
                answers = self._send(
                    [updates[i] for i, _ in batch], [body for _, body in batch], unmodified_since
                )
                results.update(zip([i for i, _ in batch], answers, strict=True))
        return [results[index] for index in range(len(updates))]

    def _send(
        self, updates: list[DealUpdate], records: list[bytes], unmodified_since: datetime | None
    ) -> list[DealUpdateResult]:
        """One batch, with an answer per record even when Zoho refuses the request as a whole
        (HTTP 400, one error, no answer per record): see _split."""
        answer = self._put_batch(updates, records, unmodified_since)
        if not isinstance(answer, ZohoApiError):
            return answer
        return self._split(updates, records, unmodified_since, answer, answered_elsewhere=False)

    def _split(
        self,
        updates: list[DealUpdate],
        records: list[bytes],
        unmodified_since: datetime | None,
        error: ZohoApiError,
        *,
        answered_elsewhere: bool,
    ) -> list[DealUpdateResult]:
        """Updates Zoho refused as a whole with `error`: halved and each half sent, down to
        the records Zoho will not take, so one bad record never holds back the others.

        Once part of the batch was answered per record (`answered_elsewhere`), the refusal is
        the remaining records' own: a single one is refused with Zoho's error. When both
        halves are refused as a whole and nothing was answered, the request itself is at
        fault, not a record: every update comes back `whole_request`, to be sent again
        later, none refused. A bad record among 100 costs at most 14 more calls.
        """
        if len(updates) == 1:
            field = self._attribute_named(error.details)
            its_own = answered_elsewhere
            return [_refused_whole(updates[0], error, its_own=its_own, field=field)]
        middle = len(updates) // 2
        halves = [(updates[:middle], records[:middle]), (updates[middle:], records[middle:])]
        answers = [self._put_batch(part, bodies, unmodified_since) for part, bodies in halves]
        if not answered_elsewhere and all(isinstance(a, ZohoApiError) for a in answers):
            return [_refused_whole(update, error, its_own=False) for update in updates]
        results: list[DealUpdateResult] = []
        for (part, bodies), answer in zip(halves, answers, strict=True):
            if isinstance(answer, ZohoApiError):
                results += self._split(
                    part, bodies, unmodified_since, answer, answered_elsewhere=True
                )
            else:
                results += answer
        return results

    def _update_json(self, update: DealUpdate) -> bytes:
        """One record of an update's body, as Zoho's JSON; ValueError when a value cannot be
        written exactly (an amount no double carries)."""
        record: dict[str, object] = {"id": update.zoho_id}
        for attribute, value in update.changes.items():
            record[self.field_map.api_name(attribute)] = wire_value(attribute, value)
        return _json_with_exact_decimals(record)

    def _put_batch(
        self,
        updates: list[DealUpdate],
        records: list[bytes],
        unmodified_since: datetime | None,
    ) -> list[DealUpdateResult] | ZohoApiError:
        """Zoho's answer per record, or its one error when it refused the request whole."""
        headers = {"Content-Type": "application/json"}
        if unmodified_since is not None:
            headers["If-Unmodified-Since"] = format_zoho_datetime(unmodified_since)
        operation = f"update {len(updates)} deals"
        response = self._api(
            "PUT",
            DEALS_PATH,
            operation=operation,
            headers=headers,
            data=b'{"data":[' + b",".join(records) + b'],"trigger":[]}',
            accept_error_statuses=frozenset({400, 412}),
        )
        body = response.body
        items = body.get("data") if isinstance(body, dict) else None
        if response.status == 400 and not isinstance(items, list):
            return self._api_error(response, operation)
        if response.status == 412 and not isinstance(items, list):
            # Every record changed since: each is fetched and merged.
            error = self._api_error(response, operation)
            items = [
                {"code": error.code, "message": error.zoho_message, "details": error.details}
            ] * len(updates)
        if not isinstance(items, list) or len(items) != len(updates):
            raise ZohoBadResponseError(f"{operation}: Zoho did not answer once per record")
        return [self._update_result(u, item) for u, item in zip(updates, items, strict=True)]

    def _update_result(self, update: DealUpdate, item: object) -> DealUpdateResult:
        if not isinstance(item, dict):
            raise ZohoBadResponseError(f"update deal {update.zoho_id}: {item!r} is not a result")
        raw_details = item.get("details")
        details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
        code = str(item.get("code", ""))
        if code == "SUCCESS":
            modified = details.get("Modified_Time")
            return DealUpdateResult(
                zoho_id=update.zoho_id,
                succeeded=True,
                code=code,
                message=str(item.get("message", "")),
                zoho_modified_time=parse_zoho_datetime(modified) if modified else None,
            )
        return DealUpdateResult(
            zoho_id=update.zoho_id,
            succeeded=False,
            code=code or "UNKNOWN",
            message=str(item.get("message", "")),
            field=self._attribute_named(details),
        )

    def _attribute_named(self, details: Mapping[str, object]) -> str | None:
        """The deal attribute an error's `api_name` names (its API name when not mapped)."""
        api_name = details.get("api_name")
        if not isinstance(api_name, str):
            return None
        return self.field_map.attribute_for(api_name) or api_name

    # --- plumbing ----------------------------------------------------------------------------

    def _api(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        accept_error_statuses: frozenset[int] = frozenset(),
    ) -> WireResponse:
        """One API call; the transport retries it, replacing a token Zoho rejects."""
        response = self._transport.send(
            method,
            f"{self.api_domain}{path}",
            operation=operation,
            params=params,
            headers=headers,
            data=data,
            tokens=self.tokens,
        )
        if response.status in (401, 403):
            error = self._api_error(response, operation)
            raise ZohoAuthError(
                scrub(
                    f"{operation}: Zoho refused access ({error.code}: {error.zoho_message})",
                    self._transport.secrets(),
                )
            )
        if response.status < 300 or response.status in _NOTHING:
            return response
        if response.status in accept_error_statuses:
            return response
        raise self._api_error(response, operation)

    @staticmethod
    def _api_error(response: WireResponse, operation: str) -> ZohoApiError:
        body = response.body if isinstance(response.body, dict) else {}
        details = body.get("details")
        return ZohoApiError(
            http_status=response.status,
            code=str(body.get("code") or f"HTTP_{response.status}"),
            message=str(body.get("message") or "no error message"),
            details=details if isinstance(details, dict) else {},
            operation=operation,
        )

    @staticmethod
    def _page_parts(response: WireResponse, operation: str) -> tuple[list[Any], dict[str, Any]]:
        body = response.body
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise ZohoBadResponseError(f"{operation}: the answer has no `data` list")
        info = body.get("info")
        return body["data"], info if isinstance(info, dict) else {}


def _refused_whole(
    update: DealUpdate, error: ZohoApiError, *, its_own: bool, field: str | None = None
) -> DealUpdateResult:
    """An update in a request Zoho refused as a whole: the record's own refusal (`its_own`),
    or the request's, which says nothing about the record (`whole_request`: send it again)."""
    return DealUpdateResult(
        zoho_id=update.zoho_id,
        succeeded=False,
        code=error.code,
        message=error.zoho_message,
        field=field if its_own else None,
        whole_request=not its_own,
    )


def _not_sent(update: DealUpdate, reason: str) -> DealUpdateResult:
    field = next(
        (name for name, value in update.changes.items() if isinstance(value, Decimal)), None
    )
    return DealUpdateResult(
        zoho_id=update.zoho_id,
        succeeded=False,
        code=NOT_SENT,
        message=f"Not sent: {reason}",
        field=field,
    )


def _json_with_exact_decimals(payload: Mapping[str, Any]) -> bytes:
    """JSON for Zoho, whose numbers are doubles: a Decimal goes out as the double that prints
    back as the same number, and one no double can carry exactly is refused, never rounded."""

    def number(value: object) -> float:
        if not isinstance(value, Decimal):
            raise TypeError(f"{type(value).__name__} is not JSON serialisable")
        if not zoho_number_carries(value):
            raise ValueError(f"{value} has more digits than Zoho's numbers can hold")
        return float(value)

    return json.dumps(payload, default=number, separators=(",", ":")).encode()
