"""The simulated org's past: its sales team's working days, replayed on a moved clock.

A demo org that starts today has no history: every deal entered its phase today, no closing
date was ever pushed. `OrgHistory` plays the team's edits (simulator.zoho_activity: new deals,
stages advanced and sent back, closing dates pushed and pulled in, amounts and probabilities
revised, milestones entered, deals won and lost) day by day from a start in the past, each
round at its time of the working day on the simulator's clock. A caller that syncs between
days (the demo, at the same moved time) records that history as it happened.

Weekends are quiet. The same seed, start and days give the same edits.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from simulator.timelines import SINGAPORE
from simulator.zoho import ZohoSimulator
from simulator.zoho_activity import Edit, OrgActivity

WORKDAY_START = time(9, 0)
ROUNDS_PER_WORKDAY = 12
ROUND_GAP = timedelta(minutes=40)  # 09:00 to 16:20
# When the team's day is over: a sync after this sees the whole day.
WORKDAY_END = time(18, 0)


def history_start(now: datetime, days: int) -> datetime:
    """The moment `days` days before `now`, at the end of that working day: the org the
    history starts from is generated as of then."""
    day = now.astimezone(SINGAPORE).date() - timedelta(days=days)
    return datetime.combine(day, WORKDAY_END, tzinfo=SINGAPORE)


class OrgHistory:
    """Plays the team's working days on a simulator whose clock is frozen (SimulatorClock with
    a start): each day moves that clock forward."""

    def __init__(
        self, simulator: ZohoSimulator, *, rounds_per_workday: int = ROUNDS_PER_WORKDAY
    ) -> None:
        if not simulator.clock.frozen:
            raise ValueError("a replay moves the clock: give the simulator a frozen one")
        self._simulator = simulator
        self._rounds = rounds_per_workday
        self._activity = OrgActivity(
            store=simulator.store,
            factory=simulator.factory,
            clock=simulator.clock,
            seed=simulator.seed,
        )

    @property
    def edits(self) -> list[Edit]:
        """Every edit played so far, oldest first."""
        return self._activity.edits

    def workday(self, day: date) -> list[Edit]:
        """The team's edits of `day` (none on a Saturday or Sunday), each round at its time
        of the day; the clock is left at the end of the working day."""
        clock = self._simulator.clock
        edits: list[Edit] = []
        if day.weekday() < 5:
            first = datetime.combine(day, WORKDAY_START, tzinfo=SINGAPORE)
            for number in range(self._rounds):
                clock.set(first + number * ROUND_GAP)
                edits.extend(self._activity.play(1))
        clock.set(datetime.combine(day, WORKDAY_END, tzinfo=SINGAPORE))
        return edits
