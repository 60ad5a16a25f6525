"""The Zoho and CurrencyFreaks simulators in a process of their own, driven through a pipe.

A benchmark that served the simulators from a thread of its own process would measure the
simulator's JSON encoding competing with the sync for the GIL. Here they run in a separate
process (started with `spawn`, so it shares no database connection or lock with the
benchmark), and the benchmark changes the simulated org through a small command pipe rather
than through endpoints the simulator would otherwise not have.

For the benchmarks that run the product as deployed (bench.fleet), the child also tells
the settings that point Pipeline Pulse at it, counts each deal sent in Update Records calls
(a push sent twice shows), lets the simulated team edit deals as time passes, and reads
deals back.

This module imports no Django: the child process never sets Django up.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import resource
import threading
import time
import traceback
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from simulator.apis import simulated_environment
from simulator.clock import SimulatorClock
from simulator.currencyfreaks import CurrencyFreaksSimulator
from simulator.http import Request, Response
from simulator.server import SimulatorServer
from simulator.zoho import ZohoSimulator

if TYPE_CHECKING:  # the simulator's own process runs without Django: the clients need it
    from currency.client import CurrencyFreaksClient
    from sync.zoho import ZohoClient

# Generating 50,000 deals takes a few seconds; a loaded 2-core machine may take far longer.
STARTUP_TIMEOUT_SECONDS = 300.0
COMMAND_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class ServedSimulators:
    """Where the simulators listen and the credentials they accept."""

    url: str
    zoho_client_id: str
    zoho_client_secret: str
    zoho_refresh_token: str
    currencyfreaks_api_key: str
    startup_seconds: float  # generating the data set and starting the server
    # The settings that point a Pipeline Pulse process at the simulators (ZOHO_*, ...).
    environment: dict[str, str]


@dataclass(frozen=True)
class SimulatorStats:
    """Running totals of the simulator process, for deltas around a measured step."""

    cpu_seconds: float  # user + system CPU of the whole simulator process
    serve_seconds: float  # wall time spent inside Get Records (building and encoding pages)
    deal_pages: int  # Get Records answers with deals in them
    calls: int  # every HTTP request the server answered
    max_rss_mb: float

    def since(self, earlier: SimulatorStats) -> SimulatorStats:
        return SimulatorStats(
            cpu_seconds=self.cpu_seconds - earlier.cpu_seconds,
            serve_seconds=self.serve_seconds - earlier.serve_seconds,
            deal_pages=self.deal_pages - earlier.deal_pages,
            calls=self.calls - earlier.calls,
            max_rss_mb=self.max_rss_mb,
        )


@dataclass(frozen=True)
class UpdateCounts:
    """Per deal: how many Update Records calls carried it, and how many Zoho applied."""

    sent: dict[str, int]
    applied: dict[str, int]


class _TimedZohoSimulator(ZohoSimulator):
    """Adds up the time spent answering Get Records, the simulator's only heavy work, and
    counts each deal sent in Update Records."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.serve_seconds = 0.0
        self.deal_pages = 0
        self.sent: Counter[str] = Counter()
        self.applied: Counter[str] = Counter()
        self._timing_lock = threading.Lock()

    def update_deals(self, request: Request) -> Response:
        response = super().update_deals(request)
        try:
            records = json.loads(request.body or b"null")["data"]
            results = json.loads(response.body or b"null")["data"]
        except (ValueError, TypeError, KeyError):
            return response  # refused as a whole: nothing was applied
        ids = [str(record.get("id")) for record in records if isinstance(record, dict)]
        with self._timing_lock:
            self.sent.update(ids)
            self.applied.update(
                deal_id
                for deal_id, result in zip(ids, results, strict=False)
                if result.get("status") == "success"
            )
        return response

    def get_deals(self, request: Request) -> Response:
        started = time.perf_counter()
        response = super().get_deals(request)
        elapsed = time.perf_counter() - started
        with self._timing_lock:
            self.serve_seconds += elapsed
            self.deal_pages += response.status == 200
        return response


def _serve(
    channel: Connection,
    deals: int,
    seed: int,
    data_age: timedelta,
    activity_every: timedelta | None,
) -> None:
    """The child process: serve until told to stop, or until the benchmark goes away."""
    started = time.perf_counter()
    clock = SimulatorClock()
    # The data set is generated as of `data_age` ago; then the clock is real time again, so
    # tokens, page tokens and later edits carry the real time, as in Zoho.
    clock.advance(-data_age)
    activity = {"activity": True, "activity_every": activity_every} if activity_every else {}
    zoho = _TimedZohoSimulator(deals=deals, seed=seed, clock=clock, **activity)
    clock.advance(data_age)
    if zoho.activity is not None:
        zoho.activity.restart()  # the team starts editing now, not data_age ago
    rates = CurrencyFreaksSimulator()
    server = SimulatorServer([zoho, rates]).start()
    channel.send(
        ServedSimulators(
            url=server.url,
            zoho_client_id=zoho.oauth.client_id,
            zoho_client_secret=zoho.oauth.client_secret,
            zoho_refresh_token=zoho.oauth.refresh_token,
            currencyfreaks_api_key=rates.api_key,
            startup_seconds=time.perf_counter() - started,
            environment=simulated_environment([zoho, rates], server.url),
        )
    )
    try:
        while True:
            try:
                command, arguments = channel.recv()
            except EOFError:
                return  # the benchmark process is gone
            if command == "stop":
                channel.send(("ok", None))
                return
            try:
                channel.send(("ok", _run_command(zoho, server, command, arguments)))
            except Exception:  # noqa: BLE001 - whatever failed is reported to the benchmark
                channel.send(("error", traceback.format_exc(limit=3)))
    finally:
        server.stop()


def _run_command(
    zoho: _TimedZohoSimulator, server: SimulatorServer, command: str, arguments: tuple[Any, ...]
) -> object:
    if command == "modify_deal":
        deal_id, changes = arguments
        return zoho.modify_deal(deal_id, changes)["Modified_Time"]
    if command == "stats":
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return SimulatorStats(
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            serve_seconds=zoho.serve_seconds,
            deal_pages=zoho.deal_pages,
            calls=len(server.calls),
            max_rss_mb=usage.ru_maxrss / 1024,  # kB on Linux
        )
    if command == "update_counts":
        with zoho._timing_lock:
            return UpdateCounts(sent=dict(zoho.sent), applied=dict(zoho.applied))
    if command == "deal_values":
        deal_ids, api_names = arguments
        return {
            deal_id: {name: record.get(name) for name in api_names}
            for deal_id in deal_ids
            if (record := zoho.store.get(deal_id)) is not None
        }
    if command == "team_edits":
        edits = zoho.activity.edits if zoho.activity is not None else []
        return [(edit.deal_id, sorted(edit.changes)) for edit in edits]
    if command == "notifications":
        return Counter(str(delivery.status) for delivery in zoho.watch.deliveries)
    if command == "latency":
        (seconds,) = arguments
        zoho.faults.latency_seconds = seconds
        return None
    raise ValueError(f"unknown simulator command {command!r}")


class SimulatorProcess:
    """`with SimulatorProcess(deals=50_000) as simulators:` serves them until the block ends.

    The simulated org's deals are generated as of `data_age` ago: its most recent edit is
    that old, while its clock (Modified_Time of later edits, token expiry) is real time.
    With `activity_every`, its sales team edits a few deals each time that much has passed
    (played when a listing of deals starts, as simulator.zoho_activity describes).
    """

    def __init__(
        self,
        *,
        deals: int,
        seed: int = 7,
        data_age: timedelta = timedelta(),
        activity_every: timedelta | None = None,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self._channel, child_channel = context.Pipe()
        self._process = context.Process(
            target=_serve,
            args=(child_channel, deals, seed, data_age, activity_every),
            name="bench-simulators",
            daemon=True,
        )
        self._child_channel = child_channel
        self.served: ServedSimulators | None = None

    def __enter__(self) -> Self:
        self._process.start()
        self._child_channel.close()  # the child holds its end; EOF reaches us if it dies
        if not self._channel.poll(STARTUP_TIMEOUT_SECONDS):
            self._stop()
            raise RuntimeError(
                f"the simulator process did not start within {STARTUP_TIMEOUT_SECONDS:.0f} s"
            )
        try:
            served = self._channel.recv()
        except EOFError:
            self._stop()
            raise RuntimeError(
                f"the simulator process died on start (exit code {self._process.exitcode})"
            ) from None
        if not isinstance(served, ServedSimulators):
            self._stop()
            raise RuntimeError(f"the simulator process sent {served!r} instead of its address")
        self.served = served
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process.is_alive():
            # If it does not answer, it is stopped below all the same.
            with contextlib.suppress(RuntimeError, OSError):
                self._command("stop")
        self._stop()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def zoho_client(self) -> ZohoClient:
        """A client as a sync task builds one: production timeouts and retries."""
        from sync.zoho import ZohoClient

        served = self._served()
        return ZohoClient(
            accounts_url=served.url,
            api_domain=served.url,
            client_id=served.zoho_client_id,
            client_secret=served.zoho_client_secret,
            refresh_token=served.zoho_refresh_token,
        )

    def currencyfreaks_client(self) -> CurrencyFreaksClient:
        from currency.client import CurrencyFreaksClient

        served = self._served()
        return CurrencyFreaksClient.from_settings(
            api_key=served.currencyfreaks_api_key, base_url=served.url
        )

    def _served(self) -> ServedSimulators:
        if self.served is None:
            raise RuntimeError("the simulator process is not started: use it in a with block")
        return self.served

    def modify_deal(self, deal_id: str, changes: Mapping[str, Any]) -> str:
        """Change a deal's fields (Zoho API names); returns its new Modified_Time."""
        return str(self._command("modify_deal", deal_id, dict(changes)))

    def update_counts(self) -> UpdateCounts:
        """Each deal sent in Update Records so far: how many calls carried it, applied."""
        counts = self._command("update_counts")
        assert isinstance(counts, UpdateCounts)
        return counts

    def deal_values(
        self, deal_ids: Sequence[str], api_names: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """These fields of these deals as Zoho holds them now (deleted deals left out)."""
        values = self._command("deal_values", list(deal_ids), list(api_names))
        assert isinstance(values, dict)
        return values

    def team_edits(self) -> list[tuple[str, list[str]]]:
        """Every edit the simulated team made so far: the deal and the fields it set."""
        edits = self._command("team_edits")
        assert isinstance(edits, list)
        return edits

    def notifications(self) -> Counter[str]:
        """Zoho's notification callbacks sent so far, by the HTTP status they were answered."""
        sent = self._command("notifications")
        assert isinstance(sent, Counter)
        return sent

    def set_latency(self, seconds: float) -> None:
        """Every API call waits this long before it is answered (0: none)."""
        self._command("latency", seconds)

    def stats(self) -> SimulatorStats:
        stats = self._command("stats")
        assert isinstance(stats, SimulatorStats)
        return stats

    def _command(self, command: str, *arguments: Any) -> object:
        self._channel.send((command, arguments))
        if not self._channel.poll(COMMAND_TIMEOUT_SECONDS):
            raise RuntimeError(f"the simulator process did not answer {command!r}")
        try:
            status, value = self._channel.recv()
        except EOFError:
            raise RuntimeError(f"the simulator process died during {command!r}") from None
        if status != "ok":
            raise RuntimeError(f"the simulator process failed {command!r}:\n{value}")
        return value

    def _stop(self) -> None:
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=10)
        self._channel.close()
