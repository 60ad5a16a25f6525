"""A deterministic, realistic Zoho Deals data set for the simulator: same seed, same deals.

Records are Zoho's wire shape (API names as keys) with money as Decimal; the simulator
serialises them. Amounts are whole cents with at most 15 significant digits, so they survive
Zoho's double-precision JSON numbers exactly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

SINGAPORE = ZoneInfo("Asia/Singapore")
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
    )
}


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
STAGE_WEIGHTS = (14, 10, 9, 7, 8, 6, 5, 4, 20, 12, 5)
STAGES_BY_NAME = {stage.name: stage for stage in STAGES}

# Region → (currency, weight) choices: most deals are priced in the local currency.
REGIONS: dict[str, tuple[tuple[str, int], ...]] = {
    "Singapore": (("SGD", 9), ("USD", 1)),
    "Malaysia": (("MYR", 8), ("USD", 2)),
    "Indonesia": (("IDR", 8), ("USD", 2)),
    "Philippines": (("PHP", 8), ("USD", 2)),
    "India": (("INR", 9), ("USD", 1)),
    "Australia": (("AUD", 1),),
    "Europe": (("EUR", 1),),
    "Regional APAC": (("USD", 1),),
}
REGION_WEIGHTS = (30, 14, 10, 9, 12, 9, 6, 10)
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
_ACCOUNT_PREFIXES = (
    "Lion City",
    "Merlion",
    "Straits",
    "Marina",
    "Orchard",
    "Raffles",
    "Temasek",
    "Sentosa",
    "Jurong",
    "Kallang",
    "Changi",
    "Batavia",
    "Klang Valley",
    "Manila Bay",
    "Deccan",
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


class DealFactory:
    """Makes deals one by one from a seeded generator; ids always increase."""

    def __init__(self, *, seed: int, now: datetime, first_id: int = FIRST_DEAL_ID) -> None:
        # Reproducible demo data, not security.
        self._rng = random.Random(seed)  # nosec B311
        self._now = now
        self._today = now.astimezone(SINGAPORE).date()
        self._next_id = first_id
        self._users = users()
        self._accounts = accounts()

    def deals(self, count: int, *, max_age_days: int = 540) -> Iterator[dict[str, Any]]:
        rng = self._rng
        # Oldest first, so ids grow with Created_Time as they do in Zoho.
        ages = sorted((rng.uniform(0.5, max_age_days) for _ in range(count)), reverse=True)
        for age_days in ages:
            yield self.deal(created=self._now - timedelta(days=age_days))

    def deal(self, *, created: datetime) -> dict[str, Any]:
        rng = self._rng
        self._next_id += rng.randrange(7, 1000)
        deal_id = str(self._next_id)
        created = created.replace(microsecond=0)
        age = max(0.0, (self._now - created).total_seconds())
        # Most deals were touched recently; some not for months.
        modified = created + timedelta(seconds=int(age * (1 - rng.random() ** 3)))
        stage = rng.choices(STAGES, STAGE_WEIGHTS)[0]
        region = rng.choices(tuple(REGIONS), REGION_WEIGHTS)[0]
        currency_codes, weights = zip(*REGIONS[region], strict=True)
        currency = CURRENCIES[rng.choices(currency_codes, weights)[0]]
        amount = self._amount(currency)
        owner = rng.choice(self._users)
        account = rng.choice(self._accounts)
        service_line = rng.choice(SERVICE_LINES)
        created_day = created.astimezone(SINGAPORE).date()
        modified_day = modified.astimezone(SINGAPORE).date()
        if stage.kind in ("won", "lost"):
            closing = _between(rng, created_day + timedelta(days=14), modified_day)
        else:
            closing = created_day + timedelta(days=rng.randint(30, 240))
        record: dict[str, Any] = {
            "id": deal_id,
            "Deal_Name": f"{account['name']} - {service_line}",
            "Amount": amount,
            "Currency": currency.code,
            "Exchange_Rate": currency.per_sgd,
            "Stage": stage.name,
            "Probability": stage.probability,
            "Expected_Revenue": (amount * stage.probability / 100).quantize(CENT),
            "Closing_Date": closing.isoformat(),
            "Owner": dict(owner),
            "Created_By": dict(owner),
            "Modified_By": dict(owner),
            "Account_Name": dict(account),
            "Contact_Name": None,
            "Campaign_Source": None,
            "Type": rng.choice(DEAL_TYPES),
            "Lead_Source": rng.choice(LEAD_SOURCES),
            "Created_Time": zoho_time(created),
            "Modified_Time": zoho_time(modified),
            "Last_Activity_Time": zoho_time(modified),
            # Zoho has sent Pipeline both ways; the client must accept either.
            "Pipeline": PIPELINE_STANDARD if rng.random() < 0.8 else dict(PIPELINE_ENTERPRISE),
            "Region": region,
            "Solution_Type": service_line,
            "Type_of_Funding": rng.choice(FUNDING_TYPES),
            "Market_Segment": rng.choice(MARKET_SEGMENTS),
            "Description": None,
            "$currency_symbol": currency.symbol,
            "$approved": True,
            "$editable": True,
            "$state": "save",
            "Layout": dict(LAYOUT),
            "Tag": [],
        }
        record.update(self._milestones(stage, created_day, closing))
        return record

    def _amount(self, currency: Currency) -> Decimal:
        rng = self._rng
        sgd = min(5_000_000.0, max(5_000.0, math.exp(rng.gauss(11.3, 1.0))))
        sgd_rounded = Decimal(int(sgd / 500) * 500)
        local = sgd_rounded * currency.per_sgd
        if currency.code == "IDR":
            return local.quantize(Decimal("1000"), rounding=ROUND_HALF_UP).quantize(CENT)
        return local.quantize(CENT, rounding=ROUND_HALF_UP)

    def _milestones(self, stage: Stage, created: date, closing: date) -> dict[str, str | None]:
        rng, today = self._rng, self._today
        dates: dict[str, date | None] = dict.fromkeys(MILESTONE_FIELDS)
        reached_proposal = stage.kind in ("proposal", "won") or (
            stage.kind == "lost" and rng.random() < 0.5
        )
        if reached_proposal:
            dates[PROPOSAL_DATE] = min(created + timedelta(days=rng.randint(7, 60)), today)
        if stage.kind == "won":
            po = min(max(closing, dates[PROPOSAL_DATE] or closing), today)
            dates[PO_DATE] = po
            chain = (
                (KICKOFF_DATE, 0.75, 7, 30),
                (INVOICE_DATE, 0.7, 20, 90),
                (PAYMENT_DATE, 0.7, 15, 60),
                (REVENUE_DATE, 0.6, 0, 30),
            )
            previous = po
            for field, chance, low, high in chain:
                candidate = previous + timedelta(days=rng.randint(low, high))
                if candidate > today or rng.random() > chance:
                    break
                dates[field] = previous = candidate
        return {name: value.isoformat() if value else None for name, value in dates.items()}


def _between(rng: random.Random, start: date, end: date) -> date:
    if end <= start:
        return end
    return start + timedelta(days=rng.randint(0, (end - start).days))


def generate_deals(count: int, *, seed: int, now: datetime) -> list[dict[str, Any]]:
    """`count` deals created over the 18 months before `now`, in id order."""
    return list(DealFactory(seed=seed, now=now).deals(count))
