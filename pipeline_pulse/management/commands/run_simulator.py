"""`manage.py run_simulator`: serve the local Zoho CRM and CurrencyFreaks until Ctrl-C."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from simulator.apis import ServedApi, simulated_apis
from simulator.faults import Fault
from simulator.server import SimulatorServer
from simulator.zoho import ZohoSimulator
from simulator.zoho_activity import ACTIVITY_EVERY

RANDOM_FAULTS = (
    Fault.RATE_LIMITED,
    Fault.RATE_LIMITED_NO_RETRY_AFTER,
    Fault.SERVER_ERROR,
    Fault.TIMEOUT,
)


class Command(BaseCommand):
    help = (
        "Serve the simulated external APIs (Zoho CRM with a deterministic data set, and "
        "CurrencyFreaks) on one local port, and print the settings that point Pipeline Pulse "
        "at them. Runs until Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8090, help="0 picks a free port.")
        parser.add_argument("--deals", type=int, default=2000, help="Size of the Zoho data set.")
        parser.add_argument("--seed", type=int, default=7, help="Same seed, same deals.")
        parser.add_argument(
            "--fail-rate",
            type=float,
            default=0.0,
            metavar="0..1",
            help="Share of calls answered with 429, 500 or a timeout, at random.",
        )
        parser.add_argument(
            "--fault-seed", type=int, default=0, help="Seed of the random faults (reproducible)."
        )
        parser.add_argument(
            "--token-lifetime", type=int, default=3600, help="Zoho access-token lifetime, seconds."
        )
        parser.add_argument(
            "--activity",
            action="store_true",
            help="The org's team edits a few deals between syncs (closing dates, amounts, "
            "stages, milestones, wins, losses, new deals).",
        )
        parser.add_argument(
            "--activity-minutes",
            type=float,
            default=ACTIVITY_EVERY.total_seconds() / 60,
            help="Minutes between rounds of edits (with --activity).",
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="Build and print everything, then exit."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        fail_rate: float = options["fail_rate"]
        if not 0.0 <= fail_rate <= 1.0:
            raise CommandError("--fail-rate must be between 0 and 1")
        if options["deals"] < 0:
            raise CommandError("--deals cannot be negative")
        if options["activity_minutes"] <= 0:
            raise CommandError("--activity-minutes must be more than 0")
        apis = simulated_apis(
            deals=options["deals"],
            seed=options["seed"],
            token_lifetime_seconds=options["token_lifetime"],
            activity=options["activity"],
            activity_every=timedelta(minutes=options["activity_minutes"]),
        )
        for api in apis:
            if fail_rate:
                api.faults.fail_randomly(fail_rate, RANDOM_FAULTS, seed=options["fault_seed"])
        try:
            server = SimulatorServer(apis, host=options["host"], port=options["port"])
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {exc.strerror}"
            ) from None
        self.stdout.write(self.style.SUCCESS(f"Simulated APIs on {server.url}"))
        for api in apis:
            assert isinstance(api, ServedApi)  # noqa: S101 - every simulated API describes itself
            title = api.name
            if isinstance(api, ZohoSimulator):
                title += f": {options['deals']} deals (seed {options['seed']})"
                if options["activity"]:
                    title += f", deals edited every {options['activity_minutes']:g} minutes"
            if fail_rate:
                title += f" ({fail_rate:.0%} of calls fail)"
            self.stdout.write(f"\n# {title}")
            for name, value in api.environment(server.url).items():
                self.stdout.write(f"{name}={value}")
        if options["no_serve"]:
            server.stop()  # frees the port it bound
            return
        self.stdout.write("\nPress Ctrl-C to stop.")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("\nStopped.")
        finally:
            server.stop()
