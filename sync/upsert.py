"""One page of Zoho deals into the deal tables: bulk statements, a fixed number of queries."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from currency.services import SgdConverter
from opportunities.changes import CrmChange
from opportunities.lifecycle import StageRules
from opportunities.models import MILESTONE_FIELDS, Account, CrmUser, Opportunity, Outcome
from pipeline_pulse.bulk import rows_upsert
from sync.models import IssueSeverity
from sync.zoho.records import DealRecord

logger = logging.getLogger(__name__)

# Opportunity fields whose values come straight from Zoho (same names on DealRecord).
ZOHO_FIELDS = (
    "name",
    "stage",
    "probability",
    "amount",
    "currency",
    "zoho_exchange_rate",
    "closing_date",
    "zoho_created_time",
    "zoho_modified_time",
    "deal_type",
    "lead_source",
    "territory",
    "service_line",
    "funding_type",
    "market_segment",
    *MILESTONE_FIELDS,
)
# Fields the sync computes from them.
DERIVED_FIELDS = (
    "account",
    "owner",
    "amount_sgd",
    "fx_rate",
    "fx_rate_as_of",
    "fx_rate_source",
    "fx_note",
    "phase",
    "outcome",
    "zoho_values",
    "is_deleted",
    "deleted_at",
    "updated_at",
)


@dataclass(frozen=True)
class RecordIssue:
    zoho_id: str
    severity: str
    reason: str


@dataclass
class PageResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    changes: list[CrmChange] = field(default_factory=list)
    issues: list[RecordIssue] = field(default_factory=list)


def zoho_values_of(deal: DealRecord) -> dict[str, Any]:
    """What Zoho said about the deal, as JSON: the base of the later three-way merge."""
    values: dict[str, Any] = {name: _json_value(getattr(deal, name)) for name in ZOHO_FIELDS}
    values["account"] = deal.account.zoho_id if deal.account else None
    values["owner"] = deal.owner.zoho_id if deal.owner else None
    return values


def _json_value(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def deals_upsert_page(
    *,
    deals: Sequence[DealRecord],
    converter: SgdConverter,
    rules: StageRules,
    references: KnownReferences | None = None,
    now: datetime | None = None,
) -> PageResult:
    """Store one page of deals: accounts, owners, then the deals, each in one bulk statement.

    Deals whose Zoho values did not change are left alone. The caller owns the transaction
    (the page, its post-sync step and the watermark commit together). A run passes the same
    `references` to every page, so accounts and owners already stored are not written again,
    and `now` as the time new deals entered their phase.
    """
    result = PageResult()
    if not deals:
        return result
    references = references if references is not None else KnownReferences()
    account_ids = references.account_ids(deals)
    owner_ids = references.owner_ids(deals)
    existing: dict[str, Mapping[str, Any]] = {
        row["zoho_id"]: row
        for row in Opportunity.objects.filter(zoho_id__in=[deal.zoho_id for deal in deals])
        .order_by()
        .values(
            "id",
            "zoho_id",
            "zoho_values",
            "phase",
            "outcome",
            "closing_date",
            "amount_sgd",
            "is_deleted",
        )
    }
    now = now or timezone.now()
    rows: list[Opportunity] = []
    for deal in deals:
        before = existing.get(deal.zoho_id)
        values = zoho_values_of(deal)
        if before is not None and before["zoho_values"] == values and not before["is_deleted"]:
            result.unchanged += 1
            continue
        rows.append(
            _opportunity_row(
                deal, values, before, account_ids, owner_ids, converter, rules, now, result
            )
        )
    written = _write(rows, result)
    ids = dict(
        Opportunity.objects.filter(zoho_id__in=[row.zoho_id for row in written])
        .order_by()
        .values_list("zoho_id", "id")
    )
    for row in written:
        before = existing.get(row.zoho_id)
        if before is None:
            result.created += 1
            result.changes.append(CrmChange(opportunity_id=ids[row.zoho_id], created=True))
            continue
        result.updated += 1
        result.changes.append(
            CrmChange(
                opportunity_id=before["id"],
                created=False,
                previous_closing_date=before["closing_date"],
                previous_amount_sgd=before["amount_sgd"],
                previous_phase=before["phase"],
                previous_outcome=before["outcome"],
            )
        )
    return result


def _opportunity_row(
    deal: DealRecord,
    values: dict[str, Any],
    before: Mapping[str, Any] | None,
    account_ids: dict[str, int],
    owner_ids: dict[str, int],
    converter: SgdConverter,
    rules: StageRules,
    now: datetime,
    result: PageResult,
) -> Opportunity:
    placement = rules.place(
        stage=deal.stage,
        probability=deal.probability,
        proposal_submitted_on=deal.proposal_submitted_on,
        po_received_on=deal.po_received_on,
        current_phase=before["phase"] if before else None,
    )
    # A won deal's revenue is locked at the rate of its closing date.
    locked_on = deal.closing_date if placement.outcome == Outcome.WON else None
    conversion = converter.convert(deal.amount, deal.currency, locked_on=locked_on)
    if deal.amount is None:
        result.issues.append(
            RecordIssue(deal.zoho_id, IssueSeverity.WARNING, "No amount in Zoho: health is Neutral")
        )
    elif conversion.amount_sgd is None:
        result.issues.append(RecordIssue(deal.zoho_id, IssueSeverity.WARNING, conversion.note))
    return Opportunity(
        zoho_id=deal.zoho_id,
        **{name: getattr(deal, name) for name in ZOHO_FIELDS},
        account_id=account_ids.get(deal.account.zoho_id) if deal.account else None,
        owner_id=owner_ids.get(deal.owner.zoho_id) if deal.owner else None,
        amount_sgd=conversion.amount_sgd,
        fx_rate=conversion.rate,
        fx_rate_as_of=conversion.rate_as_of,
        fx_rate_source=conversion.rate_source,
        fx_note=conversion.note[:200],
        phase=placement.phase,
        outcome=placement.outcome,
        zoho_values=values,
        is_deleted=False,
        deleted_at=None,
        created_at=now,
        updated_at=now,
        phase_entered_at=now,
    )


def _write(rows: list[Opportunity], result: PageResult) -> list[Opportunity]:
    """Write the rows in one statement; if the database refuses it, find the bad rows."""
    if not rows:
        return []
    try:
        with transaction.atomic():
            _bulk_upsert(rows)
        return rows
    except DatabaseError:
        logger.warning("Bulk upsert of %d deals refused; retrying them one by one", len(rows))
    written = []
    for row in rows:
        try:
            with transaction.atomic():
                _bulk_upsert([row])
            written.append(row)
        except DatabaseError as exc:
            result.failed += 1
            reason = f"Refused by the database: {str(exc).splitlines()[0][:400]}"
            result.issues.append(RecordIssue(row.zoho_id, IssueSeverity.FAILED, reason))
    return written


def _bulk_upsert(rows: Sequence[Opportunity]) -> None:
    rows_upsert(
        Opportunity,
        objs=rows,
        unique_field="zoho_id",
        update_fields=[*ZOHO_FIELDS, *DERIVED_FIELDS],
    )


@dataclass
class KnownReferences:
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
