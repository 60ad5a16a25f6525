"""`manage.py send_alerts [--dry-run]`: check the alert conditions now and tell Admins of
those that started to hold."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from alerts.models import AlertKind
from alerts.services import alerts_check


class Command(BaseCommand):
    help = (
        "Check the conditions Admins are alerted to (sync failing, rates expired, conflicts "
        "waiting) and e-mail Admins about those that started to hold."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Say what would be sent; send and change nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for outcome in alerts_check(dry_run=options["dry_run"]):
            line = f"{AlertKind(outcome.kind).label}: {outcome.action}"
            if outcome.action in ("sent", "would send"):
                line += f" ({outcome.recipients} Admin{'s' if outcome.recipients != 1 else ''})"
                self.stdout.write(self.style.WARNING(line))
                self.stdout.write(f"  {outcome.finding.summary}")
            else:
                self.stdout.write(line)
