"""Typed deal records as the Zoho client hands them to the rest of Pipeline Pulse.

Only the client (sync/zoho/client.py) knows Zoho's URLs and JSON; everything else sees these.
Field names follow the Opportunity model, so the sync can store them without renaming.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from opportunities.records import AccountRecord, CrmUserRecord, DealRecord

__all__ = [
    "NOT_SENT",
    "AccountRecord",
    "CrmUserRecord",
    "DealPage",
    "DealRecord",
    "DealUpdate",
    "DealUpdateResult",
    "DeletedDeal",
    "MalformedDeal",
]

# The code of an update the client could not write as Zoho's JSON: never sent.
NOT_SENT = "NOT_SENT"


@dataclass(frozen=True, slots=True)
class MalformedDeal:
    """A record the client could not turn into a DealRecord; the sync reports and skips it."""

    zoho_id: str
    reason: str
    zoho_modified_time: datetime | None


@dataclass(frozen=True, slots=True)
class DealPage:
    deals: list[DealRecord]
    malformed: list[MalformedDeal]
    more_records: bool


@dataclass(frozen=True, slots=True)
class DeletedDeal:
    zoho_id: str
    deleted_time: datetime
    # "recycle" (restorable in Zoho for 60 days) or "permanent".
    deletion_type: str = "recycle"


@dataclass(frozen=True, slots=True)
class DealUpdate:
    """Local edits to push to one Zoho deal.

    `changes` is keyed by DealRecord attribute names (`closing_date`, `amount`, `stage`, ...);
    values are Python values (date, Decimal, int, str, or None to clear the field).
    `unmodified_since` is the Modified_Time the edit was based on: Zoho refuses the update
    (ALREADY_MODIFIED) when the deal changed after it. None pushes unconditionally.
    """

    zoho_id: str
    changes: Mapping[str, object]
    unmodified_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class DealUpdateResult:
    """Zoho's answer for one pushed deal, in the order the updates were given."""

    zoho_id: str
    succeeded: bool
    code: str  # SUCCESS, INVALID_DATA, ALREADY_MODIFIED, MANDATORY_NOT_FOUND, NOT_SENT, ...
    message: str
    zoho_modified_time: datetime | None = None  # the deal's new Modified_Time on success
    # The DealRecord attribute Zoho rejected (or its API name when it is not mapped).
    field: str | None = None
    # Zoho refused the whole request, and nothing shows it was this record's fault: the
    # update was not applied and should be sent again, not counted as a refusal.
    whole_request: bool = False

    @property
    def already_modified(self) -> bool:
        return self.code == "ALREADY_MODIFIED"
