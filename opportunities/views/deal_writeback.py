"""The deal page's view of its edits on their way to Zoho: what waits, what Zoho refused, the
conflicts found, who edited what here (the audit history), and the rate overrides behind its
SGD amount.

Reads only; the edits service and the write-back service do the writes.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from currency.conversion import rate_overrides_newest
from currency.models import RateOverride
from opportunities.deal_fields import EDITABLE_FIELDS, FIELDS_BY_NAME
from opportunities.display import field_value
from opportunities.merge import python_value
from opportunities.models import Conflict, ConflictStatus, Opportunity
from opportunities.services.edits import SYNCED_REASON
from pipeline_pulse.display import local_money

EDITS_SHOWN = 10
RESOLVED_CONFLICTS_SHOWN = 5


def waiting_fields(deal: Opportunity, open_conflicts: list[Conflict]) -> list[dict[str, str]]:
    """Each field changed here and not yet in Zoho, both values and why it waits; fields in an
    open conflict are left to the conflict's own panel. Then each value set aside (Zoho refused
    it, or the deal was deleted in Zoho before it was sent), with the reason: the deal shows
    Zoho's value meanwhile, and someone sends it again or drops it."""
    in_conflict = {conflict.field for conflict in open_conflicts}
    base = deal.zoho_values or {}
    zoho_currency = base.get("currency", deal.currency)
    rows = []
    for name in deal.pending_fields:
        if name in in_conflict:
            continue
        if name in deal.push_errors:  # refused before values were set aside on refusal
            state, note = "refused", f"Zoho refused it: {deal.push_errors[name]}"
        else:
            state, note = "waiting", "Sent to Zoho in the next batch."
            if deal.zoho_unreadable:
                note = (
                    "Waits: Zoho holds newer values of this deal that Pipeline Pulse cannot "
                    f"read ({deal.zoho_unreadable}). Fix them in Zoho."
                )
        here = _shown(deal, name, getattr(deal, name), deal.currency)
        rows.append(
            _row(name, here, _shown(deal, name, base.get(name), zoho_currency), state, note)
        )
    refused_currency = deal.refused_values.get("currency", deal.currency)
    for name, value in deal.refused_values.items():
        reason = deal.push_errors.get(name, "")
        refused = not reason.startswith("Not sent")
        note = f"Zoho refused it: {reason}" if refused else reason
        here = _shown(deal, name, value, refused_currency)
        row = _row(name, here, _shown(deal, name, base.get(name), zoho_currency), "set_aside", note)
        row["badge"] = "Refused" if refused else "Not sent"
        rows.append(row)
    return rows


def _shown(deal: Opportunity, name: str, value: object, currency: object) -> str:
    """A value as people read it; an amount in the currency paired with it."""
    if name == "amount" and value not in (None, ""):
        return local_money(python_value(name, value), str(currency))
    return field_value(deal, name, value)


def _row(name: str, here: str, zoho: str, state: str, note: str) -> dict[str, str]:
    return {
        "name": name,
        "label": FIELDS_BY_NAME[name].label,
        "here": here,
        "zoho": zoho,
        "state": state,
        "note": note,
    }


def conflict_rows(deal: Opportunity, conflicts: list[Conflict]) -> list[dict[str, Any]]:
    """Conflicts of the deal with their values as people read them."""
    rows = []
    for conflict in conflicts:
        name = conflict.field
        label = conflict.field_label
        rows.append(
            {
                "conflict": conflict,
                "label": label,
                "base": field_value(deal, name, conflict.base_value),
                "local": field_value(deal, name, conflict.local_value),
                "zoho": field_value(deal, name, conflict.zoho_value),
                "kept": field_value(deal, name, conflict.resolved_value)
                if conflict.resolution
                else "",
                "is_open": conflict.status == ConflictStatus.OPEN,
            }
        )
    return rows


def deal_conflicts(deal: Opportunity) -> tuple[list[Conflict], list[Conflict]]:
    """Open conflicts, and the few most recently settled ones (one query, or none when the
    deal was read `with_record_flags()` and has none)."""
    if not getattr(deal, "has_conflicts", True):
        return [], []
    newest = list(
        deal.conflicts.select_related("resolved_by").order_by("status", "-detected_at", "-id")
    )
    open_ = [c for c in newest if c.status == ConflictStatus.OPEN]
    resolved = [c for c in newest if c.status != ConflictStatus.OPEN][:RESOLVED_CONFLICTS_SHOWN]
    return open_, resolved


def local_edits(deal: Opportunity) -> list[dict[str, Any]]:
    """The newest edits made here, from the audit history: who, when, each field old → new.

    History rows exist only for local edits and conflict decisions: syncs write in bulk,
    without history. Before an edit, the edits service adds a row of the values Zoho brought
    since the last one, so each edit's old value is the one it really replaced; those rows
    show as Zoho's.
    """
    if not getattr(deal, "has_local_history", True):
        return []  # read `with_record_flags()`: never edited here
    records = list(
        deal.history.select_related("history_user").order_by("-history_date", "-history_id")[
            : EDITS_SHOWN + 1
        ]
    )
    edits = []
    for newer, older in pairwise(records):
        changes = [
            {
                "label": FIELDS_BY_NAME[name].label,
                "old": field_value(deal, name, getattr(older, name)),
                "new": field_value(deal, name, getattr(newer, name)),
            }
            for name in EDITABLE_FIELDS
            if getattr(older, name) != getattr(newer, name)
        ]
        if changes:
            user, why = newer.history_user, newer.history_change_reason or ""
            if user is not None:
                who = user.get_full_name() or user.get_username()
            else:
                who = "Zoho" if why == SYNCED_REASON else "Pipeline Pulse"
            edits.append({"at": newer.history_date, "who": who, "why": why, "changes": changes})
    return edits[:EDITS_SHOWN]


def rate_overrides_of(deal: Opportunity, limit: int = 5) -> list[RateOverride]:
    """The newest Admin overrides of the rates behind the deal's SGD amount (its currency's,
    and SGD's own rate against the dollar), with who set and removed them, and why."""
    if deal.currency == "SGD":
        return []  # an SGD amount needs no rate
    return rate_overrides_newest([deal.currency, "SGD"], limit=limit)
