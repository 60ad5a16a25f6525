"""`manage.py recompute_health`: rescore deals now and print how many are in each state."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from opportunities.models import HealthStatus
from opportunities.services import health_recompute


class Command(BaseCommand):
    help = (
        "Recompute the health of every open and won deal (what beat does nightly) and print "
        "the number of deals in each state."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=None,
            help="Deals per read/write statement (default: the HEALTH_CHUNK_SIZE setting).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        result = health_recompute(chunk_size=options["chunk_size"])
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Recomputed the health of {result.deals} deals in {elapsed:.1f} s")
        for status, count in result.counts().items():
            self.stdout.write(f"  {HealthStatus(status).label:<8} {count:>8}")
