"""A page of CRM deals into the deal tables, and everything that follows from it.

The one writer of what the CRM says about deals: accounts, owners and deals (with their phase,
outcome and SGD amount) in bulk statements, then their history and health
(services.history), all in one transaction and a fixed number of queries per page. A sync
hands pages of typed records (opportunities.records) and gets counts and problems back.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from currency.conversion import SgdConverter
from opportunities.deal_fields import EDITABLE_FIELDS, FIELDS_BY_NAME, VALUE_FIELDS
from opportunities.derivation import FX_FIELDS, deal_derive
from opportunities.health_rules import DealFacts, health_evaluate
from opportunities.merge import json_value
from opportunities.models import (
    Account,
    CrmUser,
    DealStatus,
    HealthThresholds,
    MoveKind,
    Opportunity,
    PipelineMove,
)
from opportunities.records import DealRecord
from opportunities.services.crm_merges import MergedDeal, PageMerges
from opportunities.services.history import (
    DealChange,
    PipelineState,
    deal_changes_record,
    pipeline_move,
)
from opportunities.services.writeback import deal_edits_set_aside
from opportunities.stage_rules import StageRules
from pipeline_pulse.storage.bulk import rows_update, rows_upsert

logger = logging.getLogger(__name__)

# Fields this service computes from the CRM's values (deal_fields.VALUE_FIELDS).
DERIVED_FIELDS = (
    "account",
    "owner",
    *FX_FIELDS,
    "phase",
    "outcome",
    "zoho_values",
    "pending_fields",
    "local_edited_at",
    "push_errors",
    "refused_values",
    "zoho_unreadable",
    "is_deleted",
    "deleted_at",
    "updated_at",
)


# CRM ids looked up per query when soft-deleting.
DELETE_BATCH = 2000


class IssueLevel(enum.StrEnum):
    WARNING = "warning"  # stored, with something a person should know
    FAILED = "failed"  # refused by the database, not stored


@dataclass(frozen=True)
class RecordIssue:
    zoho_id: str
    severity: IssueLevel
    reason: str


@dataclass
class CrmPageResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    issues: list[RecordIssue] = field(default_factory=list)


def zoho_values_of(deal: DealRecord) -> dict[str, Any]:
    """What the CRM said about the deal, as JSON: the base of the three-way merge.

    Every catalogued field, lookups by their CRM id.
    """
    values: dict[str, Any] = {name: json_value(getattr(deal, name)) for name in VALUE_FIELDS}
    values["account"] = deal.account.zoho_id if deal.account else None
    values["owner"] = deal.owner.zoho_id if deal.owner else None
    return values


def crm_page_apply(
    *,
    deals: Sequence[DealRecord],
    converter: SgdConverter,
    rules: StageRules,
    references: CrmReferences | None = None,
    now: datetime | None = None,
) -> CrmPageResult:
    """Store one page of CRM deals with their history and health, in one transaction.

    Accounts, owners, then the deals, each in one bulk statement; deals whose CRM values did not
    change are left alone. Then what changed is recorded (transitions, change events, counters)
    and the changed deals are rescored. A caller that also commits its own bookkeeping with the
    page (a sync's counters and watermark) holds the outer transaction. A run passes the same
    `references` to every page, so accounts and owners already stored are not written again,
    and `now` as the time of the change.
    """
    now = now or timezone.now()
    # Inside a caller's transaction no savepoint is needed: a failure rolls the page back whole.
    with transaction.atomic(savepoint=False):
        result, changes = _upsert(deals, converter, rules, references or CrmReferences(), now)
        deal_changes_record(changes=changes, at=now, rules=rules)
    return result


def _upsert(
    deals: Sequence[DealRecord],
    converter: SgdConverter,
    rules: StageRules,
    references: CrmReferences,
    now: datetime,
) -> tuple[CrmPageResult, list[DealChange]]:
    result, changes = CrmPageResult(), list[DealChange]()
    if not deals:
        return result, changes
    account_ids = references.account_ids(deals)
    owner_ids = references.owner_ids(deals)
    page = [(deal, zoho_values_of(deal)) for deal in deals]
    stored, unchanged = _lock_stored(page)
    existing = _stored_before([pk for zoho_id, pk in stored.items() if zoho_id not in unchanged])
    merges = PageMerges.load(existing.values(), converter)
    new = any(deal.zoho_id not in stored for deal in deals)
    health = _NewDealHealth.load() if new else None
    rows: list[dict[str, Any]] = []
    for deal, values in page:
        if deal.zoho_id in unchanged:
            result.unchanged += 1
            continue
        before = existing.get(deal.zoho_id)
        merged = merges.apply(deal, values, before) if before and before["pending_fields"] else None
        row = _opportunity_row(
            merged.record if merged else deal,
            values,
            before,
            account_ids,
            owner_ids,
            converter,
            rules,
            now,
            result,
            merged,
        )
        if before is None and health is not None:
            row |= health.of(row, now)
        rows.append(row)
    ids = _write(rows, result)
    merges.record_conflicts(set(ids), existing, now)
    for row in rows:
        if row["zoho_id"] not in ids:
            continue
        before = existing.get(row["zoho_id"])
        if before is None:
            # Inserted by this page, with its health: deals come from the CRM only in a sync
            # run, one at a time, so no other writer inserted it since `existing` was read.
            result.created += 1
            changes.append(
                DealChange(opportunity_id=ids[row["zoho_id"]], created=True, health_stored=True)
            )
            continue
        result.updated += 1
        changes.append(DealChange.before(before["id"], before))
    return result, changes


def _lock_stored(
    page: Sequence[tuple[DealRecord, dict[str, Any]]],
) -> tuple[dict[str, int], set[str]]:
    """Lock the page's stored deals in key order and compare their CRM values with the
    page's; their ids by CRM id, and the CRM ids of those unchanged.

    Locked: a local edit of one of these deals waits for the page (and the page for the
    edit), so neither overwrites the other's values. Unchanged: the values last seen from
    the CRM, and not deleted since. PostgreSQL compares the jsonb documents itself, so a
    page that changes nothing decodes none of them in Python.
    """
    document = json.dumps(
        {deal.zoho_id: values if _jsonb_can_hold(values) else None for deal, values in page}
    )
    deals = Opportunity._meta.db_table
    with connection.cursor() as cursor:
        # The table's name from the model's metadata; the page is one bound parameter.
        cursor.execute(
            f"""SELECT deal.id, deal.zoho_id, deal.zoho_values = page.value AND NOT deal.is_deleted
            FROM {deals} AS deal JOIN jsonb_each(%s::jsonb) AS page ON page.key = deal.zoho_id
            ORDER BY deal.id FOR UPDATE OF deal""",  # noqa: S608  # nosec B608
            [document],
        )
        rows = cursor.fetchall()
    return {zoho_id: pk for pk, zoho_id, _ in rows}, {zoho_id for _, zoho_id, same in rows if same}


def _stored_before(ids: list[int]) -> dict[str, Mapping[str, Any]]:
    """The stored rows of the deals a page changes (locked already), by CRM id: what the
    merge and the history compare with."""
    if not ids:
        return {}
    rows = (
        Opportunity.objects.filter(pk__in=ids)
        .order_by("pk")
        .values(
            "id",
            "zoho_id",
            "zoho_values",
            "phase",
            "outcome",
            "amount_sgd",
            "is_deleted",
            "pending_fields",
            "local_edited_at",
            "push_errors",
            "refused_values",
            *EDITABLE_FIELDS,
        )
    )
    return {row["zoho_id"]: row for row in rows}


def _jsonb_can_hold(values: Mapping[str, Any]) -> bool:
    """Whether jsonb can read these values: not with a NUL or a lone surrogate in a text.

    Such a deal is compared as null, which equals nothing stored: it goes on to the write,
    which refuses it alone, instead of the comparison failing for the whole page.
    """
    for value in values.values():
        if isinstance(value, str) and ("\x00" in value or not _encodable(value)):
            return False
    return True


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class _NewDealHealth:
    """The health a new deal is inserted with, so it is written once, not rescored after.

    It depends on nothing the deal's history adds: a new deal has no closing-date pushes and
    no slip yet (and its phase and stage times are the insert's), so its CRM values, phase,
    outcome and SGD amount decide it, under the thresholds in force, as health_recompute
    would score it.
    """

    thresholds: HealthThresholds

    # What health reads of a deal's history, for a deal that has none yet.
    NO_HISTORY: ClassVar[Mapping[str, Any]] = MappingProxyType(
        {"id": 0, "closing_date_push_count": 0, "slipped_from": None, "slipped_at": None}
    )

    @classmethod
    def load(cls) -> _NewDealHealth:
        return cls(HealthThresholds.objects.in_force())

    def of(self, row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        facts = DealFacts.from_row({**row, **self.NO_HISTORY})
        health = health_evaluate(facts, today=timezone.localdate(now), thresholds=self.thresholds)
        return {
            "health_status": health.status,
            "health_reasons": health.reasons_as_dicts(),
            "health_computed_at": now,
        }


def _opportunity_row(
    deal: DealRecord,
    values: dict[str, Any],
    before: Mapping[str, Any] | None,
    account_ids: dict[str, int],
    owner_ids: dict[str, int],
    converter: SgdConverter,
    rules: StageRules,
    now: datetime,
    result: CrmPageResult,
    merged: MergedDeal | None,
) -> dict[str, Any]:
    """The deal's row as stored: its CRM values and what is derived from them."""
    derived = deal_derive(
        deal,
        current_phase=before["phase"] if before else None,
        rules=rules,
        converter=converter,
    )
    conversion = derived.conversion
    pending = merged.pending_fields if merged else []
    # A refused (or unsent) value stays aside until a person edits it again or drops it.
    refused = dict(before["refused_values"] or {}) if before else {}
    errors = {
        name: message
        for name, message in ((before["push_errors"] or {}) if before else {}).items()
        if name in pending or name in refused
    }
    if deal.amount is None:
        result.issues.append(
            RecordIssue(deal.zoho_id, IssueLevel.WARNING, "No amount in Zoho: health is Neutral")
        )
    elif conversion.amount_sgd is None:
        result.issues.append(RecordIssue(deal.zoho_id, IssueLevel.WARNING, conversion.note))
    return {
        "zoho_id": deal.zoho_id,
        **{name: getattr(deal, name) for name in VALUE_FIELDS},
        "account_id": account_ids.get(deal.account.zoho_id) if deal.account else None,
        "owner_id": owner_ids.get(deal.owner.zoho_id) if deal.owner else None,
        **derived.fx_values(),
        "phase": derived.placement.phase,
        "outcome": derived.placement.outcome,
        "zoho_values": values,
        "pending_fields": pending,
        "local_edited_at": merged.local_edited_at if merged else {},
        "push_errors": errors,
        "refused_values": refused,
        "zoho_unreadable": "",
        "is_deleted": False,
        "deleted_at": None,
        # Only a new deal takes these (an update writes DERIVED_FIELDS and the CRM's values).
        "created_at": now,
        "updated_at": now,
        "phase_entered_at": now,
        "stage_entered_at": now,
    }


def _write(rows: list[dict[str, Any]], result: CrmPageResult) -> dict[str, int]:
    """Write the rows in one statement; if the database refuses it, find the bad rows.

    The deal id of each row written, by CRM id.
    """
    if not rows:
        return {}
    try:
        with transaction.atomic():
            return _bulk_upsert(rows)
    except DatabaseError:
        logger.warning("Bulk upsert of %d deals refused; retrying them one by one", len(rows))
    written: dict[str, int] = {}
    for row in rows:
        try:
            with transaction.atomic():
                written |= _bulk_upsert([row])
        except DatabaseError as exc:
            result.failed += 1
            reason = f"Refused by the database: {str(exc).splitlines()[0][:400]}"
            result.issues.append(RecordIssue(row["zoho_id"], IssueLevel.FAILED, reason))
    return written


def _bulk_upsert(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return rows_upsert(
        Opportunity,
        rows=rows,
        unique_field="zoho_id",
        update_fields=[*VALUE_FIELDS, *DERIVED_FIELDS],
    )


@dataclass(frozen=True)
class DeletionResult:
    deleted: int
    # Deals deleted with local edits not yet sent: CRM id → the fields' labels.
    edits_set_aside: dict[str, list[str]] = field(default_factory=dict)


@transaction.atomic
def opportunities_mark_deleted(*, deleted: Mapping[str, datetime]) -> DeletionResult:
    """Soft-delete the live deals the CRM no longer has (CRM id → when).

    The rows stay, with their history: a deal restored from Zoho's recycle bin comes back
    live with the next sync that sees it. A deal whose stored values are newer than its
    deletion was restored since, and stays live. Local edits not yet sent are set aside on
    the deal (not dropped, and not sent by themselves should the deal come back).
    """
    live = Opportunity.objects.live().order_by()
    rows = []
    moves: list[PipelineMove] = []
    now = timezone.now()
    edited: list[tuple[int, datetime]] = []
    zoho_ids = list(deleted)
    for start in range(0, len(zoho_ids), DELETE_BATCH):
        batch = zoho_ids[start : start + DELETE_BATCH]
        for pk, zoho_id, modified, pending, outcome, closing, sgd in live.filter(
            zoho_id__in=batch
        ).values_list(
            "pk",
            "zoho_id",
            "zoho_modified_time",
            "pending_fields",
            "outcome",
            "closing_date",
            "amount_sgd",
        ):
            when = deleted[zoho_id]
            if modified is not None and modified > when:
                continue
            rows.append((pk, True, when))
            # Recorded when it is learnt, so each deal's ledger stays in order.
            move = pipeline_move(
                pk,
                at=now,
                kind=MoveKind.DELETED,
                before=PipelineState(outcome, closing, sgd),
                after=PipelineState(DealStatus.DELETED, closing, sgd),
            )
            moves.extend([move] if move else [])
            if pending:
                edited.append((pk, when))
    rows_update(Opportunity, fields=("is_deleted", "deleted_at"), rows=rows)
    PipelineMove.objects.bulk_create(moves)
    set_aside: dict[str, list[str]] = {}
    for pk, when in edited:
        deal = Opportunity.objects.select_for_update().get(pk=pk)
        labels = [FIELDS_BY_NAME[name].label for name in deal.pending_fields]
        day = timezone.localtime(when).strftime("%d %b %Y %H:%M")
        deal_edits_set_aside(
            deal=deal,
            names=deal.pending_fields,
            message=f"Not sent: the deal was deleted in Zoho ({day}) before this edit reached "
            "it. Send it again to apply it, or drop it.",
            restore_zoho=False,
            reason=f"Deleted in Zoho with edits not sent: {', '.join(labels)} kept aside",
        )
        set_aside[deal.zoho_id] = labels
    return DeletionResult(deleted=len(rows), edits_set_aside=set_aside)


@transaction.atomic
def opportunities_mark_unreadable(*, reasons: Mapping[str, str]) -> int:
    """Zoho has newer values of these deals (CRM id → why they could not be stored): until
    they are, local edits are not sent over them, and the deal page says why. How many of
    them are stored deals."""
    rows = [
        (pk, reasons[zoho_id][:300])
        for pk, zoho_id in Opportunity.objects.filter(zoho_id__in=list(reasons))
        .order_by("pk")
        .values_list("pk", "zoho_id")
    ]
    rows_update(Opportunity, fields=("zoho_unreadable",), rows=rows)
    return len(rows)


@dataclass
class CrmReferences:
    """Accounts and owners a run has stored: each page writes only new or changed ones."""

    accounts: dict[str, tuple[str, int]] = field(default_factory=dict)  # id → (name, pk)
    owners: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # (name, email, pk)

    def account_ids(self, deals: Sequence[DealRecord]) -> dict[str, int]:
        wanted = {deal.account.zoho_id: deal.account for deal in deals if deal.account}
        stale = {
            zoho_id: account
            for zoho_id, account in wanted.items()
            if self.accounts.get(zoho_id, ("", 0))[0] != account.name[:200]
        }
        if stale:
            now = timezone.now()
            Account.objects.bulk_create(
                [
                    Account(
                        zoho_id=zoho_id, name=account.name[:200], created_at=now, updated_at=now
                    )
                    for zoho_id, account in stale.items()
                ],
                update_conflicts=True,
                unique_fields=["zoho_id"],
                update_fields=["name", "updated_at"],
            )
            stored = Account.objects.filter(zoho_id__in=stale).order_by()
            for zoho_id, name, pk in stored.values_list("zoho_id", "name", "id"):
                self.accounts[zoho_id] = (name, pk)
        return {zoho_id: self.accounts[zoho_id][1] for zoho_id in wanted}

    def owner_ids(self, deals: Sequence[DealRecord]) -> dict[str, int]:
        wanted = {deal.owner.zoho_id: deal.owner for deal in deals if deal.owner}
        stale = {
            zoho_id: owner
            for zoho_id, owner in wanted.items()
            if self.owners.get(zoho_id, ("", "", 0))[:2] != (owner.name[:200], owner.email[:254])
        }
        if stale:
            now = timezone.now()
            CrmUser.objects.bulk_create(
                [
                    CrmUser(
                        zoho_id=zoho_id,
                        name=owner.name[:200],
                        email=owner.email[:254],
                        created_at=now,
                        updated_at=now,
                    )
                    for zoho_id, owner in stale.items()
                ],
                update_conflicts=True,
                unique_fields=["zoho_id"],
                update_fields=["name", "email", "updated_at"],
            )
            stored = CrmUser.objects.filter(zoho_id__in=stale).order_by()
            for zoho_id, name, email, pk in stored.values_list("zoho_id", "name", "email", "id"):
                self.owners[zoho_id] = (name, email, pk)
        return {zoho_id: self.owners[zoho_id][2] for zoho_id in wanted}
