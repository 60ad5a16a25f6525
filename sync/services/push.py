"""Pushing local edits to Zoho: a sync run of kind push.

Batches of up to 100 deals per `PUT /crm/v8/Deals`, with `If-Unmodified-Since` so Zoho refuses
to overwrite a change Pipeline Pulse has not seen (see _unmodified_since). Zoho's answer per
deal:
- SUCCESS: the values are Zoho's now (the new merge base) and no longer pending;
- ALREADY_MODIFIED (412): the deal changed in Zoho since; it is fetched and merged three ways
  like any pulled record, which may converge, keep the local value for the next push, or open
  a conflict;
- anything else (INVALID_DATA, ...): the field keeps its local value and shows Zoho's message.
A push that crashed before its answer was stored is safe to repeat: the values are the same,
and Zoho, which already has them, answers ALREADY_MODIFIED, whose merge finds them equal.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from django.utils import timezone

from currency.services import sgd_converter
from opportunities.deal_fields import FIELDS_BY_NAME
from opportunities.records import DealRecord
from opportunities.services.crm import crm_page_apply, opportunities_mark_unreadable
from opportunities.services.writeback import (
    PendingPush,
    pending_pushes,
    push_accepted,
    push_refused,
)
from opportunities.stage_rules import StageRules
from sync.models import IssueSeverity, SyncKind, SyncRun, SyncState, SyncStatus
from sync.services.runs import (
    sync_issue_add,
    sync_run_discard,
    sync_run_failed,
    sync_run_finish,
    sync_run_start,
)
from sync.zoho.errors import ZohoError
from sync.zoho.records import NOT_SENT, DealUpdate, DealUpdateResult, MalformedDeal

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


class PushTarget(Protocol):
    """What a push needs from Zoho; sync.zoho.ZohoClient is the real one."""

    @property
    def api_calls(self) -> int: ...

    def update_deals(self, updates: list[DealUpdate]) -> list[DealUpdateResult]: ...

    def get_deal(self, zoho_id: str) -> DealRecord | MalformedDeal | None: ...


def zoho_push(
    *, trigger: str, user: User | None = None, target: PushTarget | None = None
) -> SyncRun | None:
    """Push every pending local edit now; the run, or None when there was nothing to push.

    Raises SyncAlreadyRunning when another run (pull or push) holds the single slot.
    """
    from sync.zoho import ZohoClient

    if not pending_pushes():
        return None
    run = sync_run_start(kind=SyncKind.PUSH, trigger=trigger, user=user)
    # Read again now that the slot is ours: another worker's push may have sent these edits
    # between the look above and the slot, and Zoho must get each edit once.
    pushes = pending_pushes()
    if not pushes:
        sync_run_discard(run)
        return None
    calls_before = target.api_calls if target else 0
    try:
        target = target or ZohoClient.from_settings()
        _push(run, target, pushes)
        run.status = SyncStatus.SUCCEEDED
    except Exception as exc:  # noqa: BLE001  # sync_run_failed logs it, traceback and all
        sync_run_failed(run, exc)
    finally:
        sync_run_finish(run, api_calls=target.api_calls - calls_before if target else None)
    return run


def _push(run: SyncRun, target: PushTarget, pushes: list[PendingPush]) -> None:
    seen_until = SyncState.load().modified_watermark
    updates = [
        DealUpdate(
            p.zoho_id,
            p.changes,
            # Zoho holds values of this deal that no pull could store: only the values the
            # edit was made against may be overwritten, so Zoho refuses and the deal waits.
            p.unmodified_since
            if p.zoho_unread
            else _unmodified_since(p.unmodified_since, seen_until),
        )
        for p in pushes
    ]
    results = target.update_deals(updates)  # batches of 100, grouped by If-Unmodified-Since
    run.fetched = len(pushes)
    stale: list[PendingPush] = []
    refused_requests: set[str] = set()
    for push, result in zip(pushes, results, strict=True):
        if result.succeeded:
            push_accepted(push=push, zoho_modified_time=result.zoho_modified_time)
            run.updated += 1
        elif result.already_modified:
            stale.append(push)
        elif result.whole_request:
            # Zoho refused the request, not this deal: nothing was applied, nothing is set
            # aside; the edit stays pending for the next push, and the run says why.
            run.failed += 1
            refused_requests.add(f"{result.code}: {result.message}")
            sync_issue_add(
                run,
                push.zoho_id,
                IssueSeverity.FAILED,
                f"Not sent: Zoho refused the whole request ({result.code}: {result.message});"
                " it stays pending and goes with the next push",
            )
        else:
            # Refused by Zoho, or not sent at all (a value Zoho's JSON cannot carry): set
            # aside on its deal, and the others in the batch are not held back.
            sent = result.code != NOT_SENT
            message = f"{result.code}: {result.message}" if sent else result.message
            set_aside = push_refused(push=push, field=result.field, message=message)
            run.failed += 1
            labels = ", ".join(FIELDS_BY_NAME[name].label for name in set_aside)
            what = f"Zoho refused {labels}" if sent else labels
            sync_issue_add(run, push.zoho_id, IssueSeverity.FAILED, f"{what}: {message}")
    if stale:
        _merge_the_newer(run, target, stale)
    run.heartbeat_at = timezone.now()
    if refused_requests:
        raise PushRequestRefused(
            "Zoho refused whole update requests, not any one deal: "
            + "; ".join(sorted(refused_requests))
            + ". Those edits stay pending and go with the next push."
        )


class PushRequestRefused(ZohoError):
    """Zoho refused whole requests of a push: the run fails with this message once every
    answer it did get is stored."""


def _unmodified_since(base: datetime | None, seen_until: datetime | None) -> datetime | None:
    """The If-Unmodified-Since to send for an edit made against Zoho's values of `base`.

    Zoho takes one such time per request. Every change in Zoho up to the pull watermark has
    been pulled and stored, except the records a pull could not store (kept in the sync
    state's `unread`, their deals marked `zoho_unreadable`, and never sent with this time), so
    an edit made against older values is safe against the watermark itself: only a change
    Pipeline Pulse has not seen makes Zoho refuse it. Most pushes then share one
    time and go 100 to a request; an edit against values seen after the watermark keeps its
    own. A refusal that turns out needless costs a fetch and a merge, never a lost change.
    """
    if base is None or seen_until is None:
        return base
    return max(base, seen_until)


def _merge_the_newer(run: SyncRun, target: PushTarget, stale: list[PendingPush]) -> None:
    """Deals changed in Zoho since the edit: fetch each, then merge them three ways at once."""
    records = []
    for push in stale:
        record = target.get_deal(push.zoho_id)
        if isinstance(record, DealRecord):
            records.append(record)
            continue
        if record is None:
            reason = "deleted in Zoho"
        else:
            reason = f"Zoho's newest values cannot be read: {record.reason}"
            opportunities_mark_unreadable(
                reasons={push.zoho_id: f"Malformed in Zoho: {record.reason}"}
            )
        sync_issue_add(run, push.zoho_id, IssueSeverity.WARNING, f"Not pushed: {reason}")
    if records:
        crm_page_apply(deals=records, converter=sgd_converter(), rules=StageRules.load())
        run.unchanged += len(records)
