"""Changes since a date: what moved about each deal, read from its recorded change events.

The health board shows, per deal, what moved since a chosen day (by default Monday of this
week, Singapore time): new, amount up or down with the SGD difference, closing date pushed
or pulled in (days, and the quarter it left or entered), phase moved, won, lost. The events
are those "What changed" lists (opportunities.models.history); here they are netted per
deal: a closing date pushed and pulled back to where it was is no move.

Reads only: one annotation on the deals' own query (`with_moves_events`: no query per deal,
nor an extra one per page), and filters that are conditions on the deal query
(`moved_since`, `slipped_since`), so the board, its exports and the API list the same deals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.postgres.aggregates import JSONBAgg
from django.db import models
from django.db.models import Exists, F, JSONField, OuterRef, Subquery
from django.db.models.functions import Cast, ExtractQuarter, ExtractYear, JSONObject
from django.utils import timezone

from opportunities.models import ChangeEvent, ChangeKind, OpportunityQuerySet, Phase
from pipeline_pulse import display
from pipeline_pulse.dates import quarter_index, quarter_label, start_of_day, week_bounds

DATE_KINDS = (ChangeKind.CLOSING_DATE_PUSHED, ChangeKind.CLOSING_DATE_PULLED_IN)
AMOUNT_KINDS = (ChangeKind.AMOUNT_UP, ChangeKind.AMOUNT_DOWN, ChangeKind.CURRENCY_CHANGED)
PHASE_KINDS = (ChangeKind.PHASE_FORWARD, ChangeKind.PHASE_BACKWARD)
OUTCOME_KINDS = {ChangeKind.WON: "won", ChangeKind.LOST: "lost", ChangeKind.REOPENED: "reopened"}


def default_since(today: date | None = None) -> date:
    """Monday of this week in Singapore: what a weekly pipeline meeting looks back to."""
    return week_bounds(today or timezone.localdate())[0]


@dataclass(frozen=True, slots=True)
class Marker:
    """One thing that moved, as the board shows it: a short label, a longer description for
    a tooltip and screen readers, and whether the news is good, bad or neither."""

    code: str
    label: str
    detail: str
    tone: str  # "good", "bad" or "neutral"


@dataclass(frozen=True, slots=True)
class DealMoves:
    """What moved about one deal since the day, netted over its events."""

    new: bool = False
    amount_sgd: Decimal | None = None  # the SGD difference of its own amount changes
    closing_from: date | None = None  # its closing date before the first move since
    closing_to: date | None = None  # its closing date now
    phase_from: int | None = None
    phase_to: int | None = None
    outcome: str = ""  # "won", "lost" or "reopened": its latest outcome change since
    stage_moved: bool = False
    events: int = 0

    @property
    def closing_days(self) -> int:
        if self.closing_from is None or self.closing_to is None:
            return 0
        return (self.closing_to - self.closing_from).days

    @property
    def slipped(self) -> bool:
        """The closing date now sits in a later quarter than it did on the day."""
        return (
            self.closing_from is not None
            and self.closing_to is not None
            and quarter_index(self.closing_to) > quarter_index(self.closing_from)
        )

    @property
    def quarter_changed(self) -> bool:
        return (
            self.closing_from is not None
            and self.closing_to is not None
            and quarter_index(self.closing_to) != quarter_index(self.closing_from)
        )

    @property
    def phase_moved(self) -> bool:
        return self.phase_from is not None and self.phase_to not in (None, self.phase_from)

    def markers(self) -> list[Marker]:
        """The deal's markers, in the order a sales leader reads them."""
        found: list[Marker] = []
        if self.new:
            found.append(Marker("new", "New", "New deal", "good"))
        if self.outcome == "won":
            found.append(Marker("won", "Won", "Won", "good"))
        elif self.outcome == "lost":
            found.append(Marker("lost", "Lost", "Lost", "bad"))
        elif self.outcome == "reopened":
            found.append(Marker("reopened", "Reopened", "Reopened", "neutral"))
        if self.amount_sgd:
            up = self.amount_sgd > 0
            text = f"{'+' if up else ''}{display.sgd(self.amount_sgd)}"
            found.append(
                Marker(
                    "amount_up" if up else "amount_down",
                    f"Amount {text}",
                    f"Amount {'up' if up else 'down'} by {display.sgd(abs(self.amount_sgd))}",
                    "good" if up else "bad",
                )
            )
        if self.closing_days and self.closing_from and self.closing_to:
            found.append(self._closing_marker(self.closing_from, self.closing_to))
        if self.phase_from is not None and self.phase_to is not None and self.phase_moved:
            forward = self.phase_to > self.phase_from
            found.append(
                Marker(
                    "phase_forward" if forward else "phase_backward",
                    f"Phase {self.phase_from}→{self.phase_to}",
                    f"Phase moved {'forward' if forward else 'back'} from "
                    f"{Phase(self.phase_from).label} to {Phase(self.phase_to).label}",
                    "good" if forward else "bad",
                )
            )
        elif self.stage_moved and not self.new and not self.outcome:
            found.append(Marker("stage_moved", "Stage moved", "Stage moved in Zoho", "neutral"))
        if not found and self.events:
            found.append(
                Marker("back", "Changed, then back", "Changed and changed back", "neutral")
            )
        return found

    def _closing_marker(self, closing_from: date, closing_to: date) -> Marker:
        days = self.closing_days
        pushed = days > 0
        count = abs(days)
        label = f"{'Pushed' if pushed else 'Pulled in'} {count}d"
        detail = (
            f"Closing date {'pushed out' if pushed else 'pulled in'} {count} "
            f"day{'' if count == 1 else 's'}, {display.day(closing_from)} → "
            f"{display.day(closing_to)}"
        )
        if quarter_index(closing_from) != quarter_index(closing_to):
            quarters = f"{quarter_label(closing_from)} → {quarter_label(closing_to)}"
            label += f" · {quarters}"
            left_or_entered = (
                f"left {quarter_label(closing_from)}"
                if pushed
                else f"entered {quarter_label(closing_to)}"
            )
            detail += f" ({left_or_entered})"
        return Marker(
            "closing_date_pushed" if pushed else "closing_date_pulled_in",
            label,
            detail,
            "bad" if pushed else "good",
        )

    def summary(self) -> str:
        """The markers as one line of text, for exports."""
        return "; ".join(marker.detail for marker in self.markers())


@dataclass(frozen=True, slots=True)
class DealNow:
    """What the deal's own row says now, which the events are netted against."""

    closing_date: date | None
    stage_entered_at: datetime | None = None
    # When Pipeline Pulse first stored the deal: a stage "entered" then was only first seen.
    created_at: datetime | None = None


MOVES_EVENTS = "moves_events"


def with_moves_events(deals: OpportunityQuerySet, since: date) -> OpportunityQuerySet:
    """Annotate `moves_events`: each deal's change events since the start of `since`, oldest
    first, as a list. One subquery in the deals' own query: no query per deal or per page."""
    events = (
        ChangeEvent.objects.filter(opportunity=OuterRef("pk"))
        .since(since)
        .order_by()
        .values("opportunity")
        .annotate(
            listed=JSONBAgg(
                JSONObject(
                    kind="kind",
                    old="old_value",
                    new="new_value",
                    # As text: a JSON number would come back as a float.
                    sgd=Cast("sgd_value", models.TextField()),
                ),
                order_by=("occurred_at", "id"),
            )
        )
        .values("listed")
    )
    return deals.annotate(**{MOVES_EVENTS: Subquery(events, output_field=JSONField())})


def deal_moves(events: list[dict[str, Any]] | None, now: DealNow, since: date) -> DealMoves:
    """What moved about a deal since `since`, from its `moves_events` annotation."""
    listed = [
        (item["kind"], item["old"], item["new"], Decimal(item["sgd"]) if item["sgd"] else None)
        for item in events or ()
    ]
    return _netted(listed, now, start_of_day(since))


def _netted(
    events: Iterable[tuple[str, str, str, Decimal | None]], now: DealNow, start: datetime
) -> DealMoves:
    new = False
    amount: Decimal | None = None
    closing_from: date | None = None
    phase_from: int | None = None
    phase_to: int | None = None
    outcome = ""
    count = 0
    for kind, old, new_value, sgd_value in events:
        count += 1
        if kind == ChangeKind.NEW:
            new = True
        elif kind in AMOUNT_KINDS and sgd_value is not None:
            amount = (amount or Decimal(0)) + sgd_value
        elif kind in DATE_KINDS and closing_from is None:
            closing_from = date.fromisoformat(old)
        elif kind in PHASE_KINDS:
            if phase_from is None:
                phase_from = int(old)
            phase_to = int(new_value)
        elif kind in OUTCOME_KINDS:
            outcome = OUTCOME_KINDS[ChangeKind(kind)]
    entered, seen = now.stage_entered_at, now.created_at
    stage_moved = entered is not None and entered >= start and (seen is None or entered > seen)
    return DealMoves(
        new=new,
        amount_sgd=amount,
        closing_from=closing_from,
        closing_to=now.closing_date if closing_from is not None else None,
        phase_from=phase_from,
        phase_to=phase_to,
        outcome=outcome,
        stage_moved=stage_moved,
        events=count,
    )


# --- Filters: conditions on the deal query, the same for the board, exports and the API ------


def moved_since(deals: OpportunityQuerySet, since: date) -> OpportunityQuerySet:
    """Deals with a recorded change since the start of `since` (or a new stage)."""
    start = start_of_day(since)
    changed = ChangeEvent.objects.filter(opportunity=OuterRef("pk"), occurred_at__gte=start)
    new_stage = models.Q(stage_entered_at__gte=start, stage_entered_at__gt=F("created_at"))
    return deals.filter(Exists(changed) | new_stage)


def slipped_since(deals: OpportunityQuerySet, since: date) -> OpportunityQuerySet:
    """Deals whose closing date now sits in a later quarter than it did at the start of
    `since` (the old date: that of the first closing-date change since)."""
    first_date = (
        ChangeEvent.objects.filter(
            opportunity=OuterRef("pk"), kind__in=DATE_KINDS, occurred_at__gte=start_of_day(since)
        )
        .order_by("occurred_at", "id")
        .values("old_value")[:1]
    )
    return (
        deals.annotate(closing_at_since=Cast(Subquery(first_date), models.DateField()))
        .filter(closing_at_since__isnull=False, closing_date__isnull=False)
        .annotate(
            quarter_then=ExtractYear("closing_at_since") * 4 + ExtractQuarter("closing_at_since"),
            quarter_now=ExtractYear("closing_date") * 4 + ExtractQuarter("closing_date"),
        )
        .filter(quarter_now__gt=F("quarter_then"))
    )


def deal_age_days(created: datetime | None, today: date | None = None) -> int | None:
    """Whole Singapore days since the deal was created (in Zoho, else first seen)."""
    if created is None:
        return None
    return ((today or timezone.localdate()) - timezone.localdate(created)).days


__all__ = [
    "DealMoves",
    "DealNow",
    "Marker",
    "deal_age_days",
    "deal_moves",
    "default_since",
    "moved_since",
    "slipped_since",
    "with_moves_events",
]
