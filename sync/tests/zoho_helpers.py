"""Test helpers: a Zoho simulator on a real local port and a client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipeline_pulse.retrying_http import RetryPolicy
from simulator.clock import SimulatorClock
from simulator.server import SimulatorServer
from simulator.zoho import ZohoSimulator
from sync.zoho import ZohoClient
from sync.zoho.field_map import FieldMap
from sync.zoho.records import DealRecord, MalformedDeal

# A fixed simulator clock keeps Modified_Time and If-Modified-Since reproducible.
SIMULATOR_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# Short enough that timeout faults cost little, long enough for a loaded 2-core machine.
READ_TIMEOUT = 1.0
STALL_SECONDS = 1.5


@dataclass
class Zoho:
    simulator: ZohoSimulator
    server: SimulatorServer
    sleeps: list[float] = field(default_factory=list)

    def client(self, **overrides: Any) -> ZohoClient:
        """A client whose waits are recorded instead of slept, so fault tests run fast."""
        policy = overrides.pop(
            "retry_policy",
            RetryPolicy(
                max_attempts=6, backoff_base=0.05, backoff_max=30.0, read_timeout=READ_TIMEOUT
            ),
        )
        oauth = self.simulator.oauth
        options: dict[str, Any] = {
            "accounts_url": self.server.url,
            "api_domain": self.server.url,
            "client_id": oauth.client_id,
            "client_secret": oauth.client_secret,
            "refresh_token": oauth.refresh_token,
            "retry_policy": policy,
            "sleep": self.sleeps.append,
            **overrides,
        }
        return ZohoClient(**options)

    def statuses(self, path: str = "/crm/v8/Deals") -> list[int | None]:
        return [call.status for call in self.server.calls if call.path == path]


@contextmanager
def serve_zoho(**simulator_options: Any) -> Iterator[Zoho]:
    simulator_options.setdefault("clock", SimulatorClock(SIMULATOR_START))
    simulator = ZohoSimulator(**simulator_options)
    simulator.faults.stall_seconds = STALL_SECONDS
    with SimulatorServer([simulator]) as server:
        yield Zoho(simulator=simulator, server=server)


def pull_everything(client: ZohoClient) -> tuple[list[DealRecord], list[MalformedDeal]]:
    deals: list[DealRecord] = []
    malformed: list[MalformedDeal] = []
    for page in client.iter_deal_pages():
        deals.extend(page.deals)
        malformed.extend(page.malformed)
    return deals, malformed


def assert_matches_simulator(record: DealRecord, raw: dict[str, Any]) -> None:
    """The typed record says exactly what the simulator holds, field by field."""
    names = FieldMap().api_names

    def day(api_name: str) -> str | None:
        value = getattr(record, next(a for a, n in names.items() if n == api_name))
        return value.isoformat() if value else None

    assert record.zoho_id == raw["id"]
    assert record.name == raw["Deal_Name"]
    assert record.amount == raw["Amount"]
    assert record.currency == raw["Currency"]
    assert record.zoho_exchange_rate == raw["Exchange_Rate"]
    assert record.stage == raw["Stage"]
    assert record.probability == raw["Probability"]
    assert record.owner is not None
    assert (record.owner.zoho_id, record.owner.email) == (raw["Owner"]["id"], raw["Owner"]["email"])
    assert record.account is not None
    assert (record.account.zoho_id, record.account.name) == (
        raw["Account_Name"]["id"],
        raw["Account_Name"]["name"],
    )
    assert record.zoho_modified_time == datetime.fromisoformat(raw["Modified_Time"])
    assert record.zoho_created_time == datetime.fromisoformat(raw["Created_Time"])
    assert (record.territory, record.service_line) == (raw["Region"], raw["Solution_Type"])
    assert (record.funding_type, record.market_segment) == (
        raw["Type_of_Funding"],
        raw["Market_Segment"],
    )
    assert (record.deal_type, record.lead_source) == (raw["Type"], raw["Lead_Source"])
    for api_name in (
        "Closing_Date",
        "Proposal_Submission_date",
        "PO_Generation_Date",
        "Kick_off_Date",
        "Invoice_Date",
        "Payment_Received_Date",
        "OB_Recognition_Date",
    ):
        assert day(api_name) == raw[api_name], api_name
