"""When things happen to a simulated deal, relative to "now": so the demo org is believable on
whatever day it runs.

A well-run org: most open deals close in the next one to nine months and were touched in
the last three weeks, proposals out are recent, and won deals are being realised, PO then
kick-off, invoice and payment. A minority slips, in the proportions of `Slippage`: closing
dates already passed, deals nobody touched for more than 21 days, proposals out for more
than 30 days without a PO, kick-offs and invoices running late, invoices unpaid for more
than 45 days. With the default shares about one open deal in seven is in Danger
(simulator/tests pin the band).

Plain dates and times, no Zoho names: simulator.dataset turns a timeline into a record.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SINGAPORE = ZoneInfo("Asia/Singapore")
# In the order revenue is realised.
MILESTONES = ("proposal", "po", "kickoff", "invoice", "payment", "revenue")


@dataclass(frozen=True)
class Timeline:
    created: datetime
    modified: datetime
    closing: date
    milestones: Mapping[str, date]  # the milestones reached, by name


@dataclass(frozen=True)
class Slippage:
    """How much of the org slips; each share is a probability per deal."""

    overdue: float = 0.07  # open deals whose closing date has passed
    closing_this_week: float = 0.03  # open deals closing in the next 7 days
    stale: float = 0.16  # open deals not modified for more than 21 days
    old_proposal: float = 0.2  # proposals out for more than 30 days, no PO
    early_po: float = 0.2  # high-probability proposals whose PO came before the win
    slow_kickoff: float = 0.08  # won deals whose kick-off came 15-35 days after the PO
    slow_invoice: float = 0.08  # invoiced 61-90 days after kick-off
    late_payment: float = 0.08  # paid 46-120 days after the invoice


def _days(count: int) -> timedelta:
    return timedelta(days=count)


class Timelines:
    """Draws timelines from a seeded generator; the same draws give the same org."""

    def __init__(
        self, rng: random.Random, *, now: datetime, slippage: Slippage | None = None
    ) -> None:
        self._rng = rng
        self._now = now.replace(microsecond=0)
        self._today = now.astimezone(SINGAPORE).date()
        self.today = self._today
        self.slippage = slippage or Slippage()

    # --- the three kinds of deal ---------------------------------------------------------------

    def open(self, *, proposal_out: bool, probability: int) -> Timeline:
        rng, today, slip = self._rng, self._today, self.slippage
        roll = rng.random()
        if roll < slip.overdue:
            closing = today - _days(rng.randint(1, 45))
        elif roll < slip.overdue + slip.closing_this_week:
            closing = today + _days(rng.randint(0, 7))
        else:
            closing = today + _days(rng.randint(21, 270))
        milestones: dict[str, date] = {}
        earliest = min(today, closing)
        if proposal_out:
            old = rng.random() < slip.old_proposal
            age = rng.randint(31, 90) if old else rng.randint(1, 28)
            milestones["proposal"] = today - _days(age)
            if probability >= 80 and not old and rng.random() < slip.early_po:
                milestones["po"] = today - _days(rng.randint(0, min(age, 10)))
            earliest = min(earliest, milestones["proposal"])
        created = self._moment(earliest - _days(rng.randint(14, 150)))
        if rng.random() < slip.stale:
            modified = self._now - timedelta(days=rng.uniform(22, 90))
        else:
            modified = self._now - timedelta(days=rng.uniform(0, 20))
        return self._timeline(created, modified, closing, milestones)

    def won(self) -> Timeline:
        rng, today, slip = self._rng, self._today, self.slippage
        # More recent wins than old ones: the org grows.
        closing = today - _days(int(450 * rng.random() ** 1.4))
        proposal = closing - _days(rng.randint(7, 45))
        created = self._moment(proposal - _days(rng.randint(7, 120)))
        milestones = {"proposal": proposal, "po": closing}
        steps = (
            ("kickoff", slip.slow_kickoff, (3, 12), (15, 35)),
            ("invoice", slip.slow_invoice, (14, 45), (61, 90)),
            ("payment", slip.late_payment, (10, 40), (46, 120)),
            ("revenue", 0.0, (0, 15), (0, 15)),
        )
        previous = closing
        for name, late_share, usual, late in steps:
            low, high = late if rng.random() < late_share else usual
            when = previous + _days(rng.randint(low, high))
            if when > today:
                break
            milestones[name] = previous = when
        modified = self._moment(previous) + timedelta(hours=rng.uniform(0, 48))
        return self._timeline(created, modified, closing, milestones)

    def lost(self) -> Timeline:
        rng, today = self._rng, self._today
        closing = today - _days(int(450 * rng.random() ** 1.2))
        created = self._moment(closing - _days(rng.randint(20, 180)))
        milestones: dict[str, date] = {}
        if rng.random() < 0.5:
            milestones["proposal"] = max(
                closing - _days(rng.randint(5, 40)), created.astimezone(SINGAPORE).date()
            )
        modified = self._moment(closing + _days(rng.randint(0, 7)))
        return self._timeline(created, modified, closing, milestones)

    def new(self) -> Timeline:
        """A deal created just now: early, closing in one to six months."""
        closing = self._today + _days(self._rng.randint(30, 180))
        return Timeline(self._now, self._now, closing, {})

    # --- helpers -------------------------------------------------------------------------------

    def _moment(self, day: date) -> datetime:
        """A time in the working day of `day` in Singapore; for today, some time before now
        (so the deals touched today were not all touched at the same second)."""
        day = min(day, self._today)
        start = datetime.combine(day, time(8, 30), tzinfo=SINGAPORE)
        moment = start + timedelta(seconds=self._rng.randint(0, 9 * 3600))
        if moment > self._now:
            midnight = datetime.combine(day, time(0), tzinfo=SINGAPORE)
            earliest = min(start, self._now) if self._now > start else midnight
            span = max(int((self._now - earliest).total_seconds()), 0)
            moment = earliest + timedelta(seconds=self._rng.randint(0, span))
        return min(moment, self._now).replace(microsecond=0)

    def _timeline(
        self, created: datetime, modified: datetime, closing: date, milestones: dict[str, date]
    ) -> Timeline:
        # Zoho's Modified_Time is never before the record was created or a date was entered.
        latest_entry = max(milestones.values(), default=None)
        floor = max(created, self._moment(latest_entry)) if latest_entry else created
        modified = max(modified.replace(microsecond=0), floor)
        if modified > self._now:  # a change "in the future": some time since the floor instead
            span = max(int((self._now - floor).total_seconds()), 0)
            modified = min(floor + timedelta(seconds=self._rng.randint(0, span)), self._now)
        return Timeline(created, modified, closing, milestones)
