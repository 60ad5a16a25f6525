"""A deterministic, realistic Zoho Deals data set for the simulator: same seed, same deals.

Territories with their reps and currencies, Zoho's stages plus custom ones, and dates from
simulator.timelines, relative to "now", so the org is believable whatever day it runs.

Records are Zoho's wire shape (API names as keys) with money as Decimal; the simulator
serialises them. Amounts are whole cents with at most 15 significant digits, so they survive
Zoho's double-precision JSON numbers exactly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from simulator.timelines import MILESTONES, SINGAPORE, Slippage, Timeline, Timelines

HOME_CURRENCY = "SGD"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Currency:
    code: str
    symbol: str
    per_sgd: Decimal  # Zoho's Exchange_Rate: units of this currency per unit of home currency


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("SGD", "S$", Decimal("1")),
        Currency("USD", "$", Decimal("0.745")),
        Currency("EUR", "€", Decimal("0.685")),
        Currency("AUD", "A$", Decimal("1.13")),
        Currency("INR", "₹", Decimal("62.1")),
        Currency("PHP", "₱", Decimal("42.6")),
        Currency("MYR", "RM", Decimal("3.48")),
        Currency("IDR", "Rp", Decimal("11850")),
        Currency("NZD", "NZ$", Decimal("1.22")),
        Currency("CHF", "CHF", Decimal("0.655")),
        Currency("KRW", "₩", Decimal("992")),
    )
}
# Amounts in these are whole thousands, as such deals are priced.
_WHOLE_THOUSANDS = frozenset({"IDR", "KRW"})


@dataclass(frozen=True)
class Stage:
    name: str
    probability: int
    kind: str  # open, proposal (open, proposal out), won, lost


STAGES = (
    Stage("Qualification", 10, "open"),
    Stage("Needs Analysis", 20, "open"),
    Stage("Value Proposition", 40, "open"),
    Stage("Id. Decision Makers", 60, "open"),
    Stage("Proposal/Price Quote", 75, "proposal"),
    Stage("Negotiation/Review", 90, "proposal"),
    # Custom stages of the kind real orgs add, with the probability in the name.
    Stage("Proposal submitted (60)", 60, "proposal"),
    Stage("Commercial negotiation (80)", 80, "proposal"),
    Stage("Closed Won", 100, "won"),
    Stage("Closed Lost", 0, "lost"),
    Stage("Closed Lost to Competition", 0, "lost"),
)
STAGES_BY_NAME = {stage.name: stage for stage in STAGES}
# A deal is open, won or lost in these proportions; then its stage within that outcome.
OUTCOME_WEIGHTS: dict[str, int] = {"open": 45, "won": 30, "lost": 25}
STAGE_WEIGHTS: dict[str, dict[str, int]] = {
    "open": {
        "Qualification": 22,
        "Needs Analysis": 16,
        "Value Proposition": 14,
        "Id. Decision Makers": 11,
        "Proposal/Price Quote": 12,
        "Negotiation/Review": 8,
        "Proposal submitted (60)": 9,
        "Commercial negotiation (80)": 5,
    },
    "won": {"Closed Won": 1},
    "lost": {"Closed Lost": 7, "Closed Lost to Competition": 3},
}


@dataclass(frozen=True)
class Territory:
    """A sales territory: its share of deals, the currencies it prices in, and its reps."""

    name: str
    weight: int
    currencies: tuple[tuple[str, int], ...]  # (code, weight): mostly the local currency
    owners: tuple[str, ...]


TERRITORIES = (
    Territory(
        "Singapore",
        28,
        (("SGD", 9), ("USD", 1)),
        ("Benjamin Tan", "Chloe Lim", "Daniel Wong", "Jun Wei Koh"),
    ),
    Territory("Malaysia", 13, (("MYR", 8), ("USD", 2)), ("Farhan Ismail", "Nurul Huda")),
    Territory("Indonesia", 10, (("IDR", 8), ("USD", 2)), ("Aisha Rahman",)),
    Territory("Philippines", 9, (("PHP", 8), ("USD", 2)), ("Isabel Cruz", "Maria Santos")),
    Territory("India", 11, (("INR", 9), ("USD", 1)), ("Kavya Nair",)),
    Territory("Australia & NZ", 9, (("AUD", 9), ("NZD", 1)), ("Liam O'Brien",)),
    Territory("North Asia", 3, (("KRW", 1), ("USD", 1)), ("Hiroshi Sato",)),
    Territory("Europe", 6, (("EUR", 9), ("CHF", 1)), ("Grace Lee",)),
    Territory("Regional APAC", 11, (("USD", 1),), ("Evelyn Ng", "Hiroshi Sato")),
)
# A rep sells outside their territory now and then.
CROSS_TERRITORY_SHARE = 0.1
SERVICE_LINES = (
    "Cloud Migration",
    "Managed Services",
    "Data & AI",
    "Cybersecurity",
    "Modern Workplace",
    "ERP Implementation",
)
FUNDING_TYPES = ("Self-funded", "Vendor-funded (MDF)", "Government grant (PSG)", "Co-funded")
MARKET_SEGMENTS = ("Enterprise", "Mid-Market", "SMB", "Public Sector")
DEAL_TYPES = ("New Business", "Existing Business")
LEAD_SOURCES = ("Partner", "Web", "Referral", "Cold Call", "Event", "Advertisement")
OWNER_NAMES = (
    "Aisha Rahman",
    "Benjamin Tan",
    "Chloe Lim",
    "Daniel Wong",
    "Evelyn Ng",
    "Farhan Ismail",
    "Grace Lee",
    "Hiroshi Sato",
    "Isabel Cruz",
    "Jun Wei Koh",
    "Kavya Nair",
    "Liam O'Brien",
    "Maria Santos",
    "Nurul Huda",
)
# Invented names: no prefix and suffix together name a real company.
_ACCOUNT_PREFIXES = (
    "Bluewater Bay",
    "Harbourlight",
    "Pelican Point",
    "Kite & Anchor",
    "Orchid Vale",
    "Monsoon Ridge",
    "Tanjong Crest",
    "Coral Reach",
    "Batik Lane",
    "Mangrove Isle",
    "Saltwind",
    "Nutmeg Hill",
    "Lotus Quay",
    "Ironwood Cape",
    "Rainleaf",
)
_ACCOUNT_SUFFIXES = (
    "Logistics",
    "Holdings",
    "Bank",
    "Healthcare",
    "Energy",
    "Retail Group",
    "Telecom",
    "Manufacturing",
    "Insurance",
    "Foods",
    "Properties",
    "Capital",
    "Shipping",
    "University",
)
PROPOSAL_DATE = "Proposal_Submission_date"
PO_DATE = "PO_Generation_Date"
KICKOFF_DATE = "Kick_off_Date"
INVOICE_DATE = "Invoice_Date"
PAYMENT_DATE = "Payment_Received_Date"
REVENUE_DATE = "OB_Recognition_Date"
MILESTONE_FIELDS = (PROPOSAL_DATE, PO_DATE, KICKOFF_DATE, INVOICE_DATE, PAYMENT_DATE, REVENUE_DATE)
DATE_FIELDS = ("Closing_Date", *MILESTONE_FIELDS)

FIRST_DEAL_ID = 5725767000000100000
PIPELINE_STANDARD = "Standard (Standard)"
PIPELINE_ENTERPRISE = {"name": "Enterprise", "id": "5725767000000091023"}
LAYOUT = {"name": "Standard", "id": "5725767000000091055"}


def zoho_time(moment: datetime) -> str:
    """`2024-03-05T14:08:39+08:00`, Zoho's date-time form, in the org's time zone."""
    return moment.astimezone(SINGAPORE).isoformat(timespec="seconds")


def users() -> list[dict[str, str]]:
    return [
        {
            "name": name,
            "id": str(4876876000000200001 + index),
            "email": name.lower().replace(" ", ".").replace("'", "") + "@pulse-demo.example.com",
        }
        for index, name in enumerate(OWNER_NAMES)
    ]


INTEGRATION_USER = {
    "name": "Pipeline Pulse Integration",
    "id": "4876876000000200999",
    "email": "integration@pulse-demo.example.com",
}


def accounts() -> list[dict[str, str]]:
    return [
        {"name": f"{prefix} {suffix}", "id": str(3652397000000300001 + index)}
        for index, (prefix, suffix) in enumerate(
            (p, s) for p in _ACCOUNT_PREFIXES for s in _ACCOUNT_SUFFIXES
        )
    ]


# Share of open deals whose rep set a probability of their own, off the stage's default.
PROBABILITY_REVISED_SHARE = 0.35
PROBABILITY_STEPS = (-15, -10, -5, 5, 10, 15)


def revised_probability(rng: random.Random, default: int) -> int:
    """A rep's own probability near the stage's default, from 5 to 95."""
    return min(95, max(5, default + rng.choice(PROBABILITY_STEPS)))


class DealFactory:
    """Makes deals one by one from a seeded generator; ids always increase.

    Every date is relative to `now` (simulator.timelines), so the org looks the same on any
    day: the same seed and the same `now` give the same deals. Deal names are unique: an
    account's second deal of a service line is "<Account> - <Service line> 2".
    """

    def __init__(
        self,
        *,
        seed: int,
        now: datetime,
        first_id: int = FIRST_DEAL_ID,
        slippage: Slippage | None = None,
    ) -> None:
        # Reproducible demo data, not security.
        self._rng = random.Random(seed)  # nosec B311
        self._timelines = Timelines(self._rng, now=now, slippage=slippage)
        self._next_id = first_id
        self._users = {user["name"]: user for user in users()}
        self._accounts = accounts()
        self._names: dict[str, int] = {}  # deals so far per "<Account> - <Service line>"
        # Values many deals hold equal (a day, an amount) kept once: a 1,000,000-deal org
        # would otherwise hold a million copies of a few thousand days.
        self._shared: dict[tuple[type, str], Any] = {}

    def deals(self, count: int) -> Iterator[dict[str, Any]]:
        """`count` deals of every outcome, oldest first, as Zoho numbers ids by creation."""
        rng = self._rng
        outcomes, weights = list(OUTCOME_WEIGHTS), list(OUTCOME_WEIGHTS.values())
        planned = []
        for _ in range(count):
            stage = self._stage(rng.choices(outcomes, weights)[0])
            planned.append((stage, self._timeline(stage)))
        # Newest last, taken off the end: each plan is let go as its record is made, so the
        # plans and the records made from them are not all held at once.
        planned.sort(key=lambda plan: plan[1].created, reverse=True)
        while planned:
            stage, timeline = planned.pop()
            yield self._record(stage, timeline)

    def deal(self, *, created: datetime | None = None) -> dict[str, Any]:
        """A new deal, created now: early in the pipeline."""
        stage = STAGES_BY_NAME[self._rng.choice(("Qualification", "Needs Analysis"))]
        timeline = self._timelines.new()
        if created is not None:
            # Closing one to six months after the day it was created, whenever that is.
            closing = created.astimezone(SINGAPORE).date() + (timeline.closing - self._today)
            timeline = Timeline(created, created, closing, {})
        return self._record(stage, timeline)

    @property
    def _today(self) -> date:
        return self._timelines.today

    def _stage(self, outcome: str) -> Stage:
        names, weights = zip(*STAGE_WEIGHTS[outcome].items(), strict=True)
        return STAGES_BY_NAME[self._rng.choices(names, weights)[0]]

    def _timeline(self, stage: Stage) -> Timeline:
        if stage.kind == "won":
            return self._timelines.won()
        if stage.kind == "lost":
            return self._timelines.lost()
        return self._timelines.open(
            proposal_out=stage.kind == "proposal", probability=stage.probability
        )

    def _record(self, stage: Stage, timeline: Timeline) -> dict[str, Any]:
        rng = self._rng
        self._next_id += rng.randrange(7, 1000)
        territory = rng.choices(TERRITORIES, [t.weight for t in TERRITORIES])[0]
        codes, weights = zip(*territory.currencies, strict=True)
        currency = CURRENCIES[rng.choices(codes, weights)[0]]
        amount = self._amount(currency)
        if rng.random() < CROSS_TERRITORY_SHARE:
            owner = rng.choice(list(self._users.values()))
        else:
            owner = self._users[rng.choice(territory.owners)]
        account = rng.choice(self._accounts)
        service_line = rng.choice(SERVICE_LINES)
        name = f"{account['name']} - {service_line}"
        self._names[name] = number = self._names.get(name, 0) + 1
        probability = stage.probability
        if stage.kind in ("open", "proposal") and rng.random() < PROBABILITY_REVISED_SHARE:
            probability = revised_probability(rng, stage.probability)
        shared = self._share
        modified = zoho_time(timeline.modified)
        # Nested values (owner, account, layout) are the factory's own, shared by every deal
        # that has them: the store never changes them in place (an edit replaces a field's
        # value) and hands out deep copies.
        record: dict[str, Any] = {
            "id": str(self._next_id),
            "Deal_Name": name if number == 1 else f"{name} {number}",
            "Amount": shared(amount),
            "Currency": currency.code,
            "Exchange_Rate": currency.per_sgd,
            "Stage": stage.name,
            "Probability": probability,
            "Expected_Revenue": (amount * probability / 100).quantize(CENT),
            "Closing_Date": shared(timeline.closing.isoformat()),
            "Owner": owner,
            "Created_By": owner,
            "Modified_By": owner,
            "Account_Name": account,
            "Contact_Name": None,
            "Campaign_Source": None,
            "Type": rng.choice(DEAL_TYPES),
            "Lead_Source": rng.choice(LEAD_SOURCES),
            "Created_Time": zoho_time(timeline.created),
            "Modified_Time": modified,
            "Last_Activity_Time": modified,
            # Zoho has sent Pipeline both ways; the client must accept either.
            "Pipeline": PIPELINE_STANDARD if rng.random() < 0.8 else PIPELINE_ENTERPRISE,
            "Region": territory.name,
            "Solution_Type": service_line,
            "Type_of_Funding": rng.choice(FUNDING_TYPES),
            "Market_Segment": rng.choice(MARKET_SEGMENTS),
            "Description": None,
            "$currency_symbol": currency.symbol,
            "$approved": True,
            "$editable": True,
            "$state": "save",
            "Layout": LAYOUT,
            "Tag": [],
        }
        for name, api_name in zip(MILESTONES, MILESTONE_FIELDS, strict=True):
            reached = timeline.milestones.get(name)
            record[api_name] = shared(reached.isoformat()) if reached else None
        return record

    def _share(self, value: Any) -> Any:
        """The one kept instance of an immutable value the same as `value`.

        Keyed by its text too: Decimal("1.0") equals Decimal("1.00") but is not written so.
        """
        return self._shared.setdefault((type(value), str(value)), value)

    def _amount(self, currency: Currency) -> Decimal:
        sgd = min(5_000_000.0, max(5_000.0, math.exp(self._rng.gauss(11.3, 1.0))))
        sgd_rounded = Decimal(int(sgd / 500) * 500)
        return amount_in(currency, sgd_rounded)


def amount_in(currency: Currency, sgd: Decimal) -> Decimal:
    """An SGD amount priced in `currency`: whole cents, or whole thousands where usual."""
    local = sgd * currency.per_sgd
    if currency.code in _WHOLE_THOUSANDS:
        return local.quantize(Decimal("1000"), rounding=ROUND_HALF_UP).quantize(CENT)
    return local.quantize(CENT, rounding=ROUND_HALF_UP)


def generate_deals(count: int, *, seed: int, now: datetime) -> list[dict[str, Any]]:
    """`count` deals: an org's last year and a half as of `now`, in id order."""
    return list(DealFactory(seed=seed, now=now).deals(count))
