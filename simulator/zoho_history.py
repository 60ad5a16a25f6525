"""The simulated org's past: its sales team's working days, replayed on a moved clock.

A demo org that starts today has no history: every deal entered its phase today, no closing
date was ever pushed. `OrgHistory` plays the team's edits (simulator.zoho_activity: new deals,
stages advanced and sent back, closing dates pushed and pulled in, amounts and probabilities
revised, milestones entered, deals won and lost) day by day from a start in the past, each
round at its time of the working day on the simulator's clock. A caller that syncs between
days (the demo, at the same moved time) records that history as it happened.

Besides those rounds, the team keeps its pipeline in order as a real one does: each working
day new deals come in, a few open deals move a stage on, now and then a lost deal is
reopened or an open one re-priced in another currency, the owner of an open deal whose
closing date has passed deals with it now and then (pushes the date out, or wins or loses
the deal), and a deal nobody touched for a while gets its next step written down. Without
that, six months on most of the org would be overdue and idle, which no one runs.

Weekends are quiet. The same seed, start and days give the same edits.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from simulator.dataset import (
    CURRENCIES,
    PO_DATE,
    PROBABILITY_REVISED_SHARE,
    PROPOSAL_DATE,
    STAGES_BY_NAME,
    amount_in,
    revised_probability,
)
from simulator.timelines import SINGAPORE
from simulator.zoho import ZohoSimulator
from simulator.zoho_activity import (
    CUSTOM_PROPOSAL_SHARE,
    CUSTOM_PROPOSAL_STAGE,
    NEXT_STAGE,
    Edit,
    OrgActivity,
)

WORKDAY_START = time(9, 0)
ROUNDS_PER_WORKDAY = 12
ROUND_GAP = timedelta(minutes=40)  # 09:00 to 16:20
# When the team's day is over: a sync after this sees the whole day.
WORKDAY_END = time(18, 0)
# Each working day, the share of overdue open deals their owners deal with, and how.
OVERDUE_HANDLED_SHARE = 0.1
OVERDUE_WON_SHARE = 0.3  # of overdue deals with a proposal out
OVERDUE_LOST_SHARE = 0.3
# Each working day, the share of open deals that move one stage on (entering the proposal
# date when a proposal goes out): deals flow through the pipeline, not only into and out of it.
ADVANCE_SHARE = 0.02
# Each working day, the chance that a deal lost in the last LOST_RECENTLY_DAYS is reopened
# (the customer came back), and that an open deal is re-priced in another currency.
REOPEN_CHANCE = 0.12
LOST_RECENTLY_DAYS = 60
RECURRENCY_CHANCE = 0.06
# Each working day, the share of open deals untouched for IDLE_DAYS that get a next step.
IDLE_DAYS = 12
IDLE_TOUCHED_SHARE = 0.2


def _kind(record: Mapping[str, Any]) -> str:
    stage = STAGES_BY_NAME.get(str(record.get("Stage")))
    return stage.kind if stage else "unknown"


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def history_start(now: datetime, days: int) -> datetime:
    """The moment `days` days before `now`, at the end of that working day: the org the
    history starts from is generated as of then."""
    day = now.astimezone(SINGAPORE).date() - timedelta(days=days)
    return datetime.combine(day, WORKDAY_END, tzinfo=SINGAPORE)


class OrgHistory:
    """Plays the team's working days on a simulator whose clock is frozen (SimulatorClock with
    a start): each day moves that clock forward."""

    def __init__(
        self,
        simulator: ZohoSimulator,
        *,
        rounds_per_workday: int = ROUNDS_PER_WORKDAY,
        new_deals_per_workday: float = 0.0,
    ) -> None:
        if not simulator.clock.frozen:
            raise ValueError("a replay moves the clock: give the simulator a frozen one")
        self._simulator = simulator
        self._rounds = rounds_per_workday
        self._new_deals = new_deals_per_workday  # besides the rounds' (the team's prospecting)
        self._kept: list[Edit] = []  # the housekeeping edits
        self._activity = OrgActivity(
            store=simulator.store,
            factory=simulator.factory,
            clock=simulator.clock,
            seed=simulator.seed,
        )

    @property
    def edits(self) -> list[Edit]:
        """Every edit played so far: the rounds', then the housekeeping's."""
        return self._activity.edits + self._kept

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
            clock.set(first + self._rounds * ROUND_GAP)
            kept = self._housekeeping(day)
            self._kept.extend(kept)
            edits.extend(kept)
        clock.set(datetime.combine(day, WORKDAY_END, tzinfo=SINGAPORE))
        return edits

    def _housekeeping(self, day: date) -> list[Edit]:
        """Overdue deals dealt with and idle deals given a next step, a share of each a day."""
        # Reproducible demo activity, not security.
        rng = random.Random(f"{self._simulator.seed}/housekeeping/{day.isoformat()}")  # nosec B311
        edits: list[Edit] = []
        store = self._simulator.store
        new = int(self._new_deals) + (rng.random() < self._new_deals % 1)
        now = self._simulator.clock.now()
        for record in (self._simulator.factory.deal(created=now) for _ in range(new)):
            store.add([record])
            edits.append(Edit(0, "new_deal", record["id"], {"Deal_Name": record["Deal_Name"]}))
        idle_before = datetime.combine(day - timedelta(days=IDLE_DAYS), time(0), SINGAPORE)

        def is_open(record: Mapping[str, Any]) -> bool:
            return _kind(record) in ("open", "proposal")

        def overdue(record: Mapping[str, Any]) -> bool:
            closing = _date(record.get("Closing_Date"))
            return is_open(record) and closing is not None and closing < day

        for deal_id in store.select(overdue):
            if rng.random() >= OVERDUE_HANDLED_SHARE:
                continue
            record = store.get(deal_id) or {}
            roll = rng.random()
            changes: dict[str, Any]
            if _kind(record) == "proposal" and roll < OVERDUE_WON_SHARE:
                action = "win"
                changes = {"Stage": "Closed Won", "Probability": 100}
                changes["Closing_Date"] = day.isoformat()
                if not record.get(PO_DATE):
                    changes[PO_DATE] = day.isoformat()
            elif roll > 1 - OVERDUE_LOST_SHARE:
                action = "lose"
                changes = {"Stage": "Closed Lost", "Probability": 0}
            else:
                action = "push_closing_date"
                pushed = day + timedelta(days=rng.randint(14, 60))
                changes = {"Closing_Date": pushed.isoformat()}
            store.modify(deal_id, changes, by=record.get("Owner"))
            edits.append(Edit(0, action, deal_id, changes))

        for deal_id in store.select(lambda record: record.get("Stage") in NEXT_STAGE):
            if rng.random() >= ADVANCE_SHARE:
                continue
            record = store.get(deal_id) or {}
            name = NEXT_STAGE[record["Stage"]]
            if record["Stage"] == "Id. Decision Makers" and rng.random() < CUSTOM_PROPOSAL_SHARE:
                name = CUSTOM_PROPOSAL_STAGE
            stage = STAGES_BY_NAME[name]
            probability = stage.probability
            if rng.random() < PROBABILITY_REVISED_SHARE:  # the rep's own view of its chances
                probability = revised_probability(rng, stage.probability)
            changes = {"Stage": stage.name, "Probability": probability}
            if stage.kind == "proposal" and not record.get(PROPOSAL_DATE):
                changes[PROPOSAL_DATE] = day.isoformat()
            store.modify(deal_id, changes, by=record.get("Owner"))
            edits.append(Edit(0, "advance_stage", deal_id, changes))

        lost_since = datetime.combine(day - timedelta(days=LOST_RECENTLY_DAYS), time(0), SINGAPORE)

        def lost_recently(record: Mapping[str, Any]) -> bool:
            modified = record.get("Modified_Time")
            return (
                _kind(record) == "lost"
                and isinstance(modified, str)
                and datetime.fromisoformat(modified) >= lost_since
            )

        if rng.random() < REOPEN_CHANCE and (lost := store.select(lost_recently)):
            deal_id = rng.choice(lost)
            record = store.get(deal_id) or {}
            stage = STAGES_BY_NAME["Needs Analysis"]
            closing = day + timedelta(days=rng.randint(30, 90))
            changes = {
                "Stage": stage.name,
                "Probability": stage.probability,
                "Closing_Date": closing.isoformat(),
            }
            store.modify(deal_id, changes, by=record.get("Owner"))
            edits.append(Edit(0, "reopen", deal_id, changes))

        def priced_in_sgd_or_usd(record: Mapping[str, Any]) -> bool:
            return is_open(record) and record.get("Currency") in ("SGD", "USD")

        if rng.random() < RECURRENCY_CHANCE and (deals := store.select(priced_in_sgd_or_usd)):
            deal_id = rng.choice(deals)
            record = store.get(deal_id) or {}
            priced = CURRENCIES[record["Currency"]]
            repriced = CURRENCIES["USD" if priced.code == "SGD" else "SGD"]
            sgd = record["Amount"] / priced.per_sgd
            changes = {
                "Currency": repriced.code,
                "Exchange_Rate": repriced.per_sgd,
                "$currency_symbol": repriced.symbol,
                "Amount": amount_in(repriced, sgd.quantize(Decimal("1"))),
            }
            store.modify(deal_id, changes, by=record.get("Owner"))
            edits.append(Edit(0, "change_currency", deal_id, changes))

        def idle(record: Mapping[str, Any]) -> bool:
            modified = record.get("Modified_Time")
            return (
                is_open(record)
                and isinstance(modified, str)
                and (datetime.fromisoformat(modified) < idle_before)
            )

        for deal_id in store.select(idle):
            if rng.random() >= IDLE_TOUCHED_SHARE:
                continue
            record = store.get(deal_id) or {}
            changes = {"Description": f"Next step agreed with the customer on {day:%d %b %Y}."}
            store.modify(deal_id, changes, by=record.get("Owner"))
            edits.append(Edit(0, "next_step", deal_id, changes))
        return edits
