"""Benchmark: generate the simulator's data set and pull it all with the Zoho client (no DB).

Run on demand: `.venv/bin/python -m bench.zoho_pull [--deals 50000] [--seed 7] [--fail-rate 0]`.
Prints a table: data-set generation time, full pull time and rate, API calls, and the
simulator's own share of the time (serving pages) versus the client's (HTTP, JSON, parsing).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from dataclasses import dataclass
from typing import Any

import django


@dataclass
class Row:
    measure: str
    value: str


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    options = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipeline_pulse.settings")
    django.setup()
    from django.core.cache import cache
    from django.utils import timezone

    from simulator.dataset import generate_deals
    from simulator.faults import Fault
    from simulator.server import SimulatorServer
    from simulator.zoho import ZohoSimulator
    from sync.zoho import ZohoClient
    from sync.zoho_http import RetryPolicy

    class TimedZohoSimulator(ZohoSimulator):
        """Adds up the time the simulator spends answering Get Records."""

        serve_seconds = 0.0

        def get_deals(self, request: Any) -> Any:
            begin = time.perf_counter()
            try:
                return super().get_deals(request)
            finally:
                self.serve_seconds += time.perf_counter() - begin

    rows: list[Row] = []
    started = time.perf_counter()
    generate_deals(options.deals, seed=options.seed, now=timezone.now())
    rows.append(Row(f"generate {options.deals:,} deals", f"{time.perf_counter() - started:.2f} s"))
    started = time.perf_counter()
    simulator = TimedZohoSimulator(deals=options.deals, seed=options.seed)
    rows.append(Row("simulator start (generate + index)", f"{time.perf_counter() - started:.2f} s"))
    if options.fail_rate:
        simulator.faults.stall_seconds = 1.0
        simulator.faults.fail_randomly(
            options.fail_rate,
            (Fault.RATE_LIMITED_NO_RETRY_AFTER, Fault.SERVER_ERROR, Fault.TIMEOUT),
            path_prefix="/crm/",
            seed=options.seed,
        )
    cache.clear()
    with SimulatorServer([simulator]) as server:
        oauth = simulator.oauth
        client = ZohoClient(
            accounts_url=server.url,
            api_domain=server.url,
            client_id=oauth.client_id,
            client_secret=oauth.client_secret,
            refresh_token=oauth.refresh_token,
            retry_policy=RetryPolicy(max_attempts=10, backoff_base=0.05, read_timeout=0.5),
        )
        started = time.perf_counter()
        deals = malformed = pages = 0
        for page in client.iter_deal_pages():
            pages += 1
            deals += len(page.deals)
            malformed += len(page.malformed)
        pull = time.perf_counter() - started

    if deals + malformed != options.deals:
        raise SystemExit(f"pulled {deals + malformed} of {options.deals} deals")
    rows += [
        Row("full pull, client and simulator", f"{pull:.2f} s ({deals / pull:,.0f} deals/s)"),
        Row("  simulator serving pages", f"{simulator.serve_seconds:.2f} s"),
        Row(
            "  per 200-record page (simulator)", f"{simulator.serve_seconds / pages * 1000:.1f} ms"
        ),
        Row("pages / API calls", f"{pages} / {client.api_calls}"),
        Row("deals / malformed", f"{deals:,} / {malformed}"),
        Row("faults injected", str(len(simulator.faults.injected))),
        Row("max RSS of this process", f"{_max_rss_mib():.0f} MiB"),
    ]
    width = max(len(row.measure) for row in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 28}")
    for row in rows:
        print(f"{row.measure:<{width}}  {row.value}")


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
