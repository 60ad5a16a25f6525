"""`manage.py run_simulator`: serve the local stand-ins for the external APIs until Ctrl-C.

To serve another simulated API, add its class to SIMULATED_APIS: it is a SimulatedApi with
an `environment(base_url)` method returning the settings that point Pipeline Pulse at it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from django.core.management.base import BaseCommand, CommandError, CommandParser

from simulator.currencyfreaks import CurrencyFreaksSimulator
from simulator.faults import Fault
from simulator.server import SimulatedApi, SimulatorServer


@runtime_checkable
class ServedApi(Protocol):
    name: str

    def environment(self, base_url: str) -> dict[str, str]: ...


SIMULATED_APIS: tuple[Callable[[], SimulatedApi], ...] = (CurrencyFreaksSimulator,)
RANDOM_FAULTS = (Fault.RATE_LIMITED, Fault.SERVER_ERROR, Fault.TIMEOUT)


class Command(BaseCommand):
    help = (
        "Serve the simulated external APIs (CurrencyFreaks) on one local port and print the "
        "environment variables that point Pipeline Pulse at them. Runs until Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8090, help="0 picks a free port.")
        parser.add_argument(
            "--fail-rate",
            type=float,
            default=0.0,
            metavar="0..1",
            help="Share of calls that fail at random with 429, 500 or a timeout.",
        )
        parser.add_argument(
            "--fault-seed", type=int, default=0, help="Seed of the random faults (reproducible)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        fail_rate: float = options["fail_rate"]
        if not 0.0 <= fail_rate <= 1.0:
            raise CommandError("--fail-rate must be between 0 and 1")
        apis = [build() for build in SIMULATED_APIS]
        served: list[ServedApi] = []
        for api in apis:
            if not isinstance(api, ServedApi):
                raise CommandError(f"{type(api).__name__} has no environment(base_url) method")
            served.append(api)
            if fail_rate:
                api.faults.fail_randomly(fail_rate, RANDOM_FAULTS, seed=options["fault_seed"])
        try:
            server = SimulatorServer(apis, host=options["host"], port=options["port"])
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {exc.strerror}"
            ) from None
        self.stdout.write(self.style.SUCCESS(f"Simulated APIs on {server.url}"))
        for described in served:
            title = described.name + (f" ({fail_rate:.0%} of calls fail)" if fail_rate else "")
            self.stdout.write(f"\n# {title}")
            for name, value in described.environment(server.url).items():
                self.stdout.write(f"{name}={value}")
        self.stdout.write("\nPress Ctrl-C to stop.")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("\nStopped.")
        finally:
            server.stop()
