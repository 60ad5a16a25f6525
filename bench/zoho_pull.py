"""Generate the simulator's data set and pull it all with the Zoho client (no database).

Run on demand: `python -m bench zoho_pull`. Knobs: BENCH_ZOHO_PULL_DEALS (50000),
BENCH_ZOHO_PULL_SEED (7), BENCH_ZOHO_PULL_FAIL_RATE (0: the share of calls answered with
429, 500 or a stall). The table shows data-set generation time, full pull time and rate, API
calls, and the simulator's own share of the time (serving pages) versus the client's (HTTP,
JSON, parsing). The simulator serves from a thread of this process, as in the tests.
"""

from __future__ import annotations

import os
import threading
import time

from django.utils import timezone

from bench import Table
from bench.instruments import peak_rss_mb
from pipeline_pulse.retrying_http import RetryPolicy
from simulator.dataset import generate_deals
from simulator.faults import Fault
from simulator.http import Request, Response
from simulator.server import SimulatorServer
from simulator.zoho import ZohoSimulator
from sync.zoho import ZohoClient

DEALS = int(os.environ.get("BENCH_ZOHO_PULL_DEALS", "50000"))
SEED = int(os.environ.get("BENCH_ZOHO_PULL_SEED", "7"))
FAIL_RATE = float(os.environ.get("BENCH_ZOHO_PULL_FAIL_RATE", "0"))


class _TimedZohoSimulator(ZohoSimulator):
    """Adds up the time the simulator spends answering Get Records."""

    def __init__(self, *, deals: int, seed: int) -> None:
        super().__init__(deals=deals, seed=seed)
        self.serve_seconds = 0.0
        self._timing_lock = threading.Lock()

    def get_deals(self, request: Request) -> Response:
        started = time.perf_counter()
        response = super().get_deals(request)
        with self._timing_lock:
            self.serve_seconds += time.perf_counter() - started
        return response


def run() -> Table:
    if not 0.0 <= FAIL_RATE <= 1.0:
        raise ValueError(f"BENCH_ZOHO_PULL_FAIL_RATE must be between 0 and 1, not {FAIL_RATE}")
    table = Table(
        title=(
            f"Zoho pull, {DEALS:,} deals (seed {SEED}) from the simulator in this process, "
            f"{FAIL_RATE:.0%} of calls failing"
        ),
        columns=("measure", "value"),
    )
    started = time.perf_counter()
    generate_deals(DEALS, seed=SEED, now=timezone.now())
    table.rows.append((f"generate {DEALS:,} deals", f"{time.perf_counter() - started:.2f} s"))
    started = time.perf_counter()
    simulator = _TimedZohoSimulator(deals=DEALS, seed=SEED)
    table.rows.append(
        ("simulator start (generate + index)", f"{time.perf_counter() - started:.2f} s")
    )
    if FAIL_RATE:
        simulator.faults.stall_seconds = 1.0
        simulator.faults.fail_randomly(
            FAIL_RATE,
            (Fault.RATE_LIMITED_NO_RETRY_AFTER, Fault.SERVER_ERROR, Fault.TIMEOUT),
            path_prefix="/crm/",
            seed=SEED,
        )
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

    if deals + malformed != DEALS:
        raise RuntimeError(f"pulled {deals + malformed} of {DEALS} deals")
    per_page_ms = simulator.serve_seconds / pages * 1000 if pages else 0.0
    table.rows += [
        ("full pull, client and simulator", f"{pull:.2f} s ({deals / pull:,.0f} deals/s)"),
        ("  simulator serving pages", f"{simulator.serve_seconds:.2f} s"),
        ("  per 200-record page (simulator)", f"{per_page_ms:.1f} ms"),
        ("pages / API calls", f"{pages} / {client.api_calls}"),
        ("deals / malformed", f"{deals:,} / {malformed}"),
        ("faults injected", str(len(simulator.faults.injected))),
        ("max RSS of this process", f"{peak_rss_mb():.0f} MB"),
    ]
    table.notes.append("")
    return table
