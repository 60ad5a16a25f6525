"""Stand-ins for the Zoho boundary in sync tests that need exact control of pages and crashes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from opportunities.records import CrmStageRecord
from sync.zoho import ZohoError
from sync.zoho.records import (
    AccountRecord,
    CrmUserRecord,
    DealPage,
    DealRecord,
    DeletedDeal,
    MalformedDeal,
)

BASE_TIME = datetime(2026, 10, 1, 9, 0, tzinfo=timezone.get_fixed_timezone(480))


def deal_record(number: int, **overrides: Any) -> DealRecord:
    """A well-formed deal; `number` makes ids, names and times distinct and ordered."""
    values: dict[str, Any] = {
        "zoho_id": f"6000000{number:012d}",
        "name": f"Deal {number}",
        "account": AccountRecord(zoho_id=f"5000000{number % 7:012d}", name=f"Account {number % 7}"),
        "owner": CrmUserRecord(
            zoho_id=f"4000000{number % 3:012d}",
            name=f"Owner {number % 3}",
            email=f"owner{number % 3}@example.com",
        ),
        "stage": "Qualification",
        "probability": 10,
        "amount": Decimal("1000.00") + number,
        "currency": "USD",
        "zoho_exchange_rate": None,
        "closing_date": BASE_TIME.date().replace(year=2027),
        "zoho_created_time": BASE_TIME,
        "zoho_modified_time": BASE_TIME + timedelta(minutes=number),
        "deal_type": "New Business",
        "lead_source": "Partner",
        "territory": "Singapore",
        "service_line": "Cloud",
        "funding_type": "",
        "market_segment": "Enterprise",
        "proposal_submitted_on": None,
        "po_received_on": None,
        "kickoff_on": None,
        "invoiced_on": None,
        "payment_received_on": None,
        "revenue_recognised_on": None,
    }
    values.update(overrides)
    return DealRecord(**values)


class FakeDealSource:
    """Serves deals page by page like the Zoho client, and can fail after a number of pages."""

    def __init__(
        self,
        deals: Sequence[DealRecord] = (),
        *,
        malformed: Sequence[MalformedDeal] = (),
        deleted: Sequence[DeletedDeal] = (),
        page_size: int = 200,
        fail_after_pages: int | None = None,
        stages: Sequence[CrmStageRecord] | ZohoError = (),
    ) -> None:
        self.deals = {deal.zoho_id: deal for deal in deals}
        self.malformed = list(malformed)
        self.deleted = list(deleted)
        self.page_size = page_size
        self.fail_after_pages = fail_after_pages
        self.stages = stages
        self.api_calls = 0
        self.requests: list[tuple[str, datetime | None]] = []

    def stage_metadata(self) -> list[CrmStageRecord]:
        self.requests.append(("stages", None))
        self.api_calls += 1
        if isinstance(self.stages, ZohoError):
            raise self.stages
        return list(self.stages)

    def modify(self, zoho_id: str, **changes: Any) -> DealRecord:
        deal = replace(self.deals[zoho_id], **changes)
        self.deals[zoho_id] = deal
        return deal

    def iter_deal_pages(self, *, modified_since: datetime | None = None) -> Iterator[DealPage]:
        self.requests.append(("deals", modified_since))
        deals = sorted(self.deals.values(), key=lambda d: (d.zoho_modified_time, d.zoho_id))
        if modified_since is not None:
            deals = [deal for deal in deals if deal.zoho_modified_time > modified_since]
        malformed = self.malformed if modified_since is None else []
        self.api_calls += 1
        if not deals and not malformed:
            return
        pages = [
            deals[start : start + self.page_size] for start in range(0, len(deals), self.page_size)
        ] or [[]]
        for number, chunk in enumerate(pages, start=1):
            if self.fail_after_pages is not None and number > self.fail_after_pages:
                raise ZohoError("Zoho answered 500 INTERNAL_ERROR after 5 attempts")
            if number > 1:
                self.api_calls += 1
            yield DealPage(
                deals=chunk,
                malformed=malformed if number == 1 else [],
                more_records=number < len(pages),
            )

    def get_deals(self, zoho_ids: Sequence[str]) -> DealPage:
        self.requests.append(("ids", None))
        self.api_calls += 1
        wanted = set(zoho_ids)
        return DealPage(
            deals=[deal for zoho_id, deal in self.deals.items() if zoho_id in wanted],
            malformed=[bad for bad in self.malformed if bad.zoho_id in wanted],
            more_records=False,
        )

    def iter_deleted_deals(self, *, since: datetime | None = None) -> Iterator[list[DeletedDeal]]:
        self.requests.append(("deleted", since))
        self.api_calls += 1
        items = [item for item in self.deleted if since is None or item.deleted_time > since]
        if items:
            yield items
