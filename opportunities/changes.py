"""What a sync changed about a deal, handed from the sync to the post-sync step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class CrmChange:
    """A deal the sync created or whose Zoho values changed, with the values it had before.

    `previous_*` are None for a new deal. Phase and outcome are already recomputed on the
    row when the post-sync step runs; `previous_phase`/`previous_outcome` are the old ones.
    """

    opportunity_id: int
    created: bool
    previous_closing_date: date | None = None
    previous_amount_sgd: Decimal | None = None
    previous_phase: int | None = None
    previous_outcome: str | None = None
