"""The simulated external APIs Pipeline Pulse talks to, built together for one local server."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol, runtime_checkable

from simulator.clock import SimulatorClock
from simulator.currencyfreaks import CurrencyFreaksSimulator
from simulator.server import SimulatedApi
from simulator.zoho import ZohoSimulator
from simulator.zoho_activity import ACTIVITY_EVERY


@runtime_checkable
class ServedApi(Protocol):
    name: str

    def environment(self, base_url: str) -> dict[str, str]: ...


def simulated_apis(
    *,
    deals: int = 2000,
    seed: int = 7,
    token_lifetime_seconds: int = 3600,
    activity: bool = False,
    activity_every: timedelta = ACTIVITY_EVERY,
    zoho_clock: SimulatorClock | None = None,
) -> list[SimulatedApi]:
    """Zoho CRM (a deterministic org of `deals` deals, whose team edits deals between syncs
    when `activity` is on; on `zoho_clock`, e.g. one frozen in the past for a replay of the
    org's history) and CurrencyFreaks."""
    return [
        ZohoSimulator(
            deals=deals,
            seed=seed,
            clock=zoho_clock,
            token_lifetime_seconds=token_lifetime_seconds,
            activity=activity,
            activity_every=activity_every,
        ),
        CurrencyFreaksSimulator(),
    ]


def simulated_environment(apis: list[SimulatedApi], base_url: str) -> dict[str, str]:
    """The settings that point Pipeline Pulse at every API served on `base_url`."""
    environment: dict[str, str] = {}
    for api in apis:
        if isinstance(api, ServedApi):
            environment.update(api.environment(base_url))
    return environment
