"""Merging a page of CRM deals with the edits made here: which local values stay, what stays
pending, and the conflicts found (open for a person, or settled by the strategy in force).

The decisions are opportunities.merge's; this module applies them to a page and records the
conflicts. Used by the CRM page service only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from simple_history.utils import bulk_create_with_history

from currency.conversion import SgdConverter
from opportunities.deal_fields import with_money_pair
from opportunities.merge import ConflictPolicy, FieldConflict, json_value, merge, same
from opportunities.models import Conflict, ConflictResolution, ConflictStatus
from opportunities.records import DealRecord


@dataclass(frozen=True, slots=True)
class MergedDeal:
    """A deal edited here and in Zoho, merged: the record to store and what stays pending."""

    record: DealRecord
    pending_fields: list[str]
    local_edited_at: dict[str, str]


@dataclass
class PageMerges:
    """The three-way merges of one page: the open conflicts it knows, the ones it finds."""

    policy: ConflictPolicy
    open_conflicts: dict[int, set[str]]
    converter: SgdConverter
    found: list[tuple[str, FieldConflict, datetime]] = field(default_factory=list)
    # Zoho's value now of each field waiting in an open conflict: (deal id, field) → value, time
    zoho_now: dict[tuple[int, str], tuple[Any, datetime]] = field(default_factory=dict)

    @classmethod
    def load(cls, existing: Iterable[Mapping[str, Any]], converter: SgdConverter) -> PageMerges:
        edited = [row["id"] for row in existing if row["pending_fields"]]
        open_conflicts: dict[int, set[str]] = {}
        if edited:
            for deal_id, name in (
                Conflict.objects.open()
                .filter(opportunity_id__in=edited)
                .values_list("opportunity_id", "field")
            ):
                open_conflicts.setdefault(deal_id, set()).add(name)
        return cls(ConflictPolicy.from_settings(), open_conflicts, converter)

    def apply(
        self, deal: DealRecord, values: Mapping[str, Any], before: Mapping[str, Any]
    ) -> MergedDeal:
        pending = set(before["pending_fields"])
        edited_at = {
            name: datetime.fromisoformat(moment)
            for name, moment in (before["local_edited_at"] or {}).items()
        }
        result = merge(
            base=before["zoho_values"] or {},
            local={name: json_value(before[name]) for name in with_money_pair(pending)},
            zoho=values,
            pending=pending,
            local_edited_at=edited_at,
            zoho_modified_at=deal.zoho_modified_time,
            policy=self.policy,
            in_conflict=self.open_conflicts.get(before["id"], set()),
            to_sgd=self._to_sgd,
        )
        self.found.extend(
            (deal.zoho_id, conflict, deal.zoho_modified_time) for conflict in result.conflicts
        )
        for name in self.open_conflicts.get(before["id"], ()):
            self.zoho_now[before["id"], name] = (values.get(name), deal.zoho_modified_time)
        kept = {name: before[name] for name in result.keep_local}
        return MergedDeal(
            record=replace(deal, **kept),
            pending_fields=sorted(result.pending),
            local_edited_at={
                name: moment
                for name, moment in (before["local_edited_at"] or {}).items()
                if name in result.pending
            },
        )

    def _to_sgd(self, amount: Any, currency: Any) -> Decimal | None:
        """An amount's SGD value at the latest rates: the 20% rule compares moves, and one
        rate for all three values keeps a rate movement from looking like a deal change."""
        if amount is None or not currency:
            return None
        return self.converter.convert(Decimal(str(amount)), str(currency)).amount_sgd

    def record_conflicts(
        self, written: set[str], existing: Mapping[str, Mapping[str, Any]], now: datetime
    ) -> None:
        """Store the conflicts of the deals written: open for a person, or resolved by the
        strategy in force (kept for the audit trail)."""
        rows = []
        for zoho_id, conflict, zoho_modified in self.found:
            if zoho_id not in written:
                continue
            settled = conflict.settled
            rows.append(
                Conflict(
                    opportunity_id=existing[zoho_id]["id"],
                    field=conflict.field,
                    base_value=conflict.base,
                    local_value=conflict.local,
                    zoho_value=conflict.zoho,
                    zoho_modified_time=zoho_modified,
                    strategy=conflict.strategy,
                    status=ConflictStatus.RESOLVED if settled else ConflictStatus.OPEN,
                    resolution=_RESOLUTIONS.get(settled, ""),
                    resolved_value=(conflict.zoho if settled == "take_zoho" else conflict.local)
                    if settled
                    else None,
                    resolved_at=now if settled else None,
                    detected_at=now,
                )
            )
        bulk_create_with_history(rows, Conflict)  # found conflicts are audited from the start
        self.found.clear()
        self._follow_zoho(written_ids={existing[z]["id"] for z in written if z in existing})

    def _follow_zoho(self, written_ids: set[int]) -> None:
        """An open conflict shows Zoho's newest value: the one a person deciding takes or
        overrules. Zoho moving again while a conflict waits is rare; each move is saved
        (and so audited) one by one."""
        if not self.zoho_now:
            return
        deal_ids = {deal_id for deal_id, _ in self.zoho_now if deal_id in written_ids}
        for conflict in Conflict.objects.open().filter(opportunity_id__in=deal_ids):
            seen = self.zoho_now.get((conflict.opportunity_id, conflict.field))
            if seen is None or same(conflict.field, seen[0], conflict.zoho_value):
                continue
            conflict.zoho_value, conflict.zoho_modified_time = seen
            conflict._change_reason = "Zoho changed the field again"  # type: ignore[attr-defined]
            conflict.save(update_fields=["zoho_value", "zoho_modified_time"])
        self.zoho_now.clear()


_RESOLUTIONS = {
    "take_zoho": ConflictResolution.TOOK_ZOHO,
    "keep_local": ConflictResolution.KEPT_LOCAL,
}
