"""`manage.py demo`: prepare the embedded setup and serve the whole product on one machine."""

from __future__ import annotations

# Starts our own worker with a fixed argument list.
import subprocess  # nosec B404
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from opportunities.roles import Role
from opportunities.services import login_upsert

# Demo only (served on 127.0.0.1), and printed on the console on purpose.
DEMO_PASSWORD = "pulse-demo-2026"  # noqa: S105  # nosec B105
DEMO_LOGINS = (("admin", "admin@pipeline-pulse.example", Role.ADMIN, "Demo Admin"),)


class Command(BaseCommand):
    help = "Migrate, create the demo logins, then serve the web app with a background worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-serve", action="store_true", help="Prepare everything, then exit."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        for username, email, role, full_name in DEMO_LOGINS:
            login_upsert(
                username=username,
                email=email,
                password=DEMO_PASSWORD,
                role=role,
                full_name=full_name,
            )
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"\nPipeline Pulse demo: {url}"))
        for username, _, role, _ in DEMO_LOGINS:
            self.stdout.write(f"  log in as {username} / {DEMO_PASSWORD}  ({role})")
        self.stdout.write("")
        if options["no_serve"]:
            return
        self._serve(options["host"], options["port"])

    def _serve(self, host: str, port: int) -> None:
        import uvicorn

        # Worker with embedded beat: the scheduled work runs without separate services.
        worker = subprocess.Popen(  # nosec B603
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "pipeline_pulse",
                "worker",
                "--beat",
                "--pool=solo",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=WARNING",
            ]
        )
        try:
            uvicorn.run(
                "pipeline_pulse.asgi:application",
                host=host,
                port=port,
                reload=False,
                lifespan="off",
                log_level="info",
            )
        finally:
            worker.terminate()
            worker.wait(timeout=30)
