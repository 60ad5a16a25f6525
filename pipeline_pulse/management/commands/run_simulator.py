"""`manage.py run_simulator`: serve the local Zoho CRM simulator for the demo and benchmarks."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from simulator.faults import Fault
from simulator.server import SimulatorServer
from simulator.zoho import ZohoSimulator

RANDOM_FAULTS = (
    Fault.RATE_LIMITED,
    Fault.RATE_LIMITED_NO_RETRY_AFTER,
    Fault.SERVER_ERROR,
    Fault.TIMEOUT,
)


class Command(BaseCommand):
    help = (
        "Serve a simulated Zoho CRM (OAuth and the v8 Deals API) with a deterministic data "
        "set, and print the ZOHO_* settings that point Pipeline Pulse at it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8090, help="0 picks a free port")
        parser.add_argument("--deals", type=int, default=2000, help="size of the data set")
        parser.add_argument("--seed", type=int, default=7, help="same seed, same deals")
        parser.add_argument(
            "--fail-rate",
            type=float,
            default=0.0,
            help="share of API calls answered with 429, 500 or a timeout (0 to 1)",
        )
        parser.add_argument(
            "--token-lifetime", type=int, default=3600, help="access-token lifetime in seconds"
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="build and print everything, then exit"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["deals"] < 0:
            raise CommandError("--deals cannot be negative")
        if not 0 <= options["fail_rate"] <= 1:
            raise CommandError("--fail-rate is a share between 0 and 1")
        simulator = ZohoSimulator(
            deals=options["deals"],
            seed=options["seed"],
            token_lifetime_seconds=options["token_lifetime"],
        )
        if options["fail_rate"]:
            simulator.faults.fail_randomly(
                options["fail_rate"], RANDOM_FAULTS, path_prefix="/crm/", seed=options["seed"]
            )
        try:
            server = SimulatorServer([simulator], host=options["host"], port=options["port"])
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from exc
        oauth = simulator.oauth
        self.stdout.write(
            self.style.SUCCESS(
                f"Zoho CRM simulator: {options['deals']} deals (seed {options['seed']}) "
                f"on {server.url}"
            )
        )
        self.stdout.write("Point Pipeline Pulse at it with these settings (.env or environment):")
        for name, value in (
            ("ZOHO_ACCOUNTS_URL", server.url),
            ("ZOHO_API_DOMAIN", server.url),
            ("ZOHO_CLIENT_ID", oauth.client_id),
            ("ZOHO_CLIENT_SECRET", oauth.client_secret),
            ("ZOHO_REFRESH_TOKEN", oauth.refresh_token),
        ):
            self.stdout.write(f"{name}={value}")
        if options["no_serve"]:
            # stop() waits for a serving loop to end, so there must be one.
            server.start().stop()
            return
        self.stdout.write("Ctrl-C stops it.")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        finally:
            server.stop()
