"""The simulated sales team at work: a few deals change between syncs, so a demo lives.

Every `every` of the simulator's clock is a round of one to three edits by the deals' owners:
a closing date pushed out (or pulled in), an amount revised, a stage advanced, a milestone
entered (proposal, PO, kick-off, invoice, payment), a deal won or lost, a new deal created.
Rounds are played when a listing of deals starts (a Get Records call without a page token),
so edits land between syncs, never in the middle of one, and always carry the clock's
current Modified_Time. Each round draws from a generator seeded by the org's seed and the
round's number: the same seed, clock and requests give the same edits.

Off unless asked for (`ZohoSimulator(activity=True)`, `run_simulator --activity`, the demo):
tests see an org that changes only when they change it.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from simulator.clock import SimulatorClock
from simulator.dataset import (
    CURRENCIES,
    INVOICE_DATE,
    KICKOFF_DATE,
    PAYMENT_DATE,
    PO_DATE,
    PROPOSAL_DATE,
    REVENUE_DATE,
    STAGES_BY_NAME,
    DealFactory,
    amount_in,
    revised_probability,
)
from simulator.timelines import SINGAPORE
from simulator.zoho_store import DealStore

ACTIVITY_EVERY = timedelta(minutes=3)
# After a long pause (a laptop asleep overnight) the org does not replay every missed round.
MAX_ROUNDS_AT_ONCE = 10
EDITS_PER_ROUND = (1, 3)

# Where an open deal goes next when it advances.
NEXT_STAGE = {
    "Qualification": "Needs Analysis",
    "Needs Analysis": "Value Proposition",
    "Value Proposition": "Id. Decision Makers",
    "Id. Decision Makers": "Proposal/Price Quote",
    "Proposal/Price Quote": "Negotiation/Review",
    "Proposal submitted (60)": "Commercial negotiation (80)",
}
# Some of the team's proposals go out under the org's own stages instead.
CUSTOM_PROPOSAL_STAGE = "Proposal submitted (60)"
CUSTOM_PROPOSAL_SHARE = 0.3
# Where a deal goes when the customer sends it back: from a proposal to qualification.
STEP_BACK = {
    "Proposal/Price Quote": "Id. Decision Makers",
    "Proposal submitted (60)": "Value Proposition",
    "Negotiation/Review": "Proposal/Price Quote",
}
REALISATION = (PO_DATE, KICKOFF_DATE, INVOICE_DATE, PAYMENT_DATE, REVENUE_DATE)


@dataclass(frozen=True)
class Edit:
    """One change the simulated team made: which deal, what kind, and the fields set."""

    round: int
    action: str
    deal_id: str
    changes: Mapping[str, Any]


def _kind(record: Mapping[str, Any]) -> str:
    stage = STAGES_BY_NAME.get(str(record.get("Stage")))
    return stage.kind if stage else "unknown"


def _is_open(record: Mapping[str, Any]) -> bool:
    return _kind(record) in ("open", "proposal")


def _closing(record: Mapping[str, Any]) -> date | None:
    try:
        return date.fromisoformat(record["Closing_Date"])
    except (KeyError, TypeError, ValueError):
        return None


Done = tuple[str, dict[str, Any]] | None  # the deal changed and its changes, or nothing to do
Action = Callable[[random.Random], Done]


class OrgActivity:
    """Plays rounds of edits on a DealStore as the simulator's clock moves on."""

    def __init__(
        self,
        *,
        store: DealStore,
        factory: DealFactory,
        clock: SimulatorClock,
        seed: int,
        every: timedelta = ACTIVITY_EVERY,
    ) -> None:
        if every <= timedelta():
            raise ValueError("activity needs a positive interval")
        self._store, self._factory, self._clock = store, factory, clock
        self._seed, self._every = seed, every
        self._started = clock.now()
        self._rounds_due_seen = 0
        self._played = 0  # rounds played by `play`
        self._lock = threading.Lock()
        self.edits: list[Edit] = []  # every edit so far, oldest first
        # What the team does, and how often relative to the rest.
        self._actions: tuple[tuple[str, int, Action], ...] = (
            ("push_closing_date", 20, self._push_closing_date),
            ("pull_in_closing_date", 6, self._pull_in_closing_date),
            ("change_amount", 14, self._change_amount),
            ("advance_stage", 18, self._advance_stage),
            ("revise_probability", 6, self._revise_probability),
            ("step_back", 2, self._step_back),
            ("enter_milestone", 18, self._enter_milestone),
            ("win", 8, self._win),
            ("lose", 5, self._lose),
            ("new_deal", 11, self._new_deal),
        )

    def catch_up(self) -> list[Edit]:
        """Play the rounds that came due since the last call (at most MAX_ROUNDS_AT_ONCE)."""
        with self._lock:
            due = int((self._clock.now() - self._started) / self._every)
            first = max(self._rounds_due_seen + 1, due - MAX_ROUNDS_AT_ONCE + 1)
            self._rounds_due_seen = max(due, self._rounds_due_seen)
            edits = [edit for number in range(first, due + 1) for edit in self._round(number)]
            self.edits.extend(edits)
            return edits

    def play(self, rounds: int) -> list[Edit]:
        """Play `rounds` rounds now, whatever the clock says is due: a replay of the org's past
        moves the clock itself (simulator.zoho_history). Numbered apart from catch_up's."""
        with self._lock:
            first = self._played + 1
            self._played += rounds
            edits = [
                edit
                for number in range(first, first + rounds)
                for edit in self._round(number, "history")
            ]
            self.edits.extend(edits)
            return edits

    def restart(self) -> None:
        """Count rounds due from the clock's now on (after a replay moved the clock)."""
        with self._lock:
            self._started = self._clock.now()
            self._rounds_due_seen = 0

    def _round(self, number: int, kind: str = "activity") -> list[Edit]:
        # Reproducible demo activity, not security.
        rng = random.Random(f"{self._seed}/{kind}/{number}")  # nosec B311
        edits = []
        for _ in range(rng.randint(*EDITS_PER_ROUND)):
            name, _, action = rng.choices(self._actions, [row[1] for row in self._actions])[0]
            done = action(rng)
            if done is not None:
                edits.append(Edit(number, name, *done))
        return edits

    # --- the edits -----------------------------------------------------------------------------

    def _today(self) -> date:
        return self._clock.now().astimezone(SINGAPORE).date()

    def _pick(
        self, rng: random.Random, wanted: Callable[[Mapping[str, Any]], bool]
    ) -> dict[str, Any] | None:
        deal_ids = self._store.select(wanted)
        return self._store.get(rng.choice(deal_ids)) if deal_ids else None

    def _save(self, record: Mapping[str, Any], changes: dict[str, Any]) -> Done:
        # The deal's owner made the change, as a rep does in Zoho.
        self._store.modify(record["id"], changes, by=record.get("Owner"))
        return record["id"], changes

    def _push_closing_date(self, rng: random.Random) -> Done:
        record = self._pick(rng, lambda r: _is_open(r) and _closing(r) is not None)
        if record is None:
            return None
        closing = max(_closing(record) or self._today(), self._today())
        pushed = closing + timedelta(days=rng.randint(14, 60))
        return self._save(record, {"Closing_Date": pushed.isoformat()})

    def _pull_in_closing_date(self, rng: random.Random) -> Done:
        soon = self._today() + timedelta(days=30)
        record = self._pick(rng, lambda r: _is_open(r) and (_closing(r) or soon) > soon)
        if record is None:
            return None
        closing = _closing(record) or soon
        pulled = max(closing - timedelta(days=rng.randint(7, 21)), self._today() + timedelta(7))
        return self._save(record, {"Closing_Date": pulled.isoformat()})

    def _change_amount(self, rng: random.Random) -> Done:
        record = self._pick(rng, lambda r: _is_open(r) and isinstance(r.get("Amount"), Decimal))
        currency = CURRENCIES.get(str(record.get("Currency"))) if record else None
        if record is None or currency is None:
            return None
        sgd = record["Amount"] / currency.per_sgd * Decimal(str(rng.uniform(0.75, 1.3)))
        amount = amount_in(currency, Decimal(int(sgd / 500) * 500 or 500))
        return self._save(record, {"Amount": amount})

    def _advance_stage(self, rng: random.Random) -> Done:
        record = self._pick(rng, lambda r: r.get("Stage") in NEXT_STAGE)
        if record is None:
            return None
        next_stage = NEXT_STAGE[record["Stage"]]
        if record["Stage"] == "Id. Decision Makers" and rng.random() < CUSTOM_PROPOSAL_SHARE:
            next_stage = CUSTOM_PROPOSAL_STAGE
        stage = STAGES_BY_NAME[next_stage]
        changes: dict[str, Any] = {"Stage": stage.name, "Probability": stage.probability}
        if stage.kind == "proposal" and not record.get(PROPOSAL_DATE):
            changes[PROPOSAL_DATE] = self._today().isoformat()
        return self._save(record, changes)

    def _revise_probability(self, rng: random.Random) -> Done:
        """The rep's own view of an open deal's chances, near its stage's default."""
        record = self._pick(rng, lambda r: _is_open(r) and r.get("Stage") in STAGES_BY_NAME)
        if record is None:
            return None
        default = STAGES_BY_NAME[record["Stage"]].probability
        probability = revised_probability(rng, default)
        if probability == record.get("Probability"):
            probability = default
        return self._save(record, {"Probability": probability})

    def _step_back(self, rng: random.Random) -> Done:
        """The customer sends a proposal back: the deal returns to an earlier stage."""
        record = self._pick(rng, lambda r: r.get("Stage") in STEP_BACK and not r.get(PO_DATE))
        if record is None:
            return None
        stage = STAGES_BY_NAME[STEP_BACK[record["Stage"]]]
        changes: dict[str, Any] = {"Stage": stage.name, "Probability": stage.probability}
        if stage.kind == "open":  # no proposal out any more
            changes[PROPOSAL_DATE] = None
        return self._save(record, changes)

    def _enter_milestone(self, rng: random.Random) -> Done:
        """The next step of a deal that is being realised: a PO for a proposal out, then
        kick-off, invoice, payment and revenue for a won deal."""

        def next_step(record: Mapping[str, Any]) -> str | None:
            if _kind(record) == "proposal":
                return None if record.get(PO_DATE) else PO_DATE
            if _kind(record) == "won":
                return next((name for name in REALISATION if not record.get(name)), None)
            return None

        record = self._pick(rng, lambda r: next_step(r) is not None)
        step = next_step(record) if record else None
        if record is None or step is None:
            return None
        return self._save(record, {step: self._today().isoformat()})

    def _win(self, rng: random.Random) -> Done:
        record = self._pick(rng, lambda r: _kind(r) == "proposal")
        if record is None:
            return None
        today = self._today().isoformat()
        changes = {"Stage": "Closed Won", "Probability": 100, "Closing_Date": today}
        if not record.get(PO_DATE):
            changes[PO_DATE] = today
        return self._save(record, changes)

    def _lose(self, rng: random.Random) -> Done:
        record = self._pick(rng, _is_open)
        if record is None:
            return None
        stage = rng.choice(("Closed Lost", "Closed Lost", "Closed Lost to Competition"))
        return self._save(record, {"Stage": stage, "Probability": 0})

    def _new_deal(self, rng: random.Random) -> Done:
        record = self._factory.deal(created=self._clock.now())
        self._store.add([record])
        return record["id"], {"Deal_Name": record["Deal_Name"], "Stage": record["Stage"]}
