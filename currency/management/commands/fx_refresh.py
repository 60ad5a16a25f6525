"""`manage.py fx_refresh`: fetch CurrencyFreaks rates once and print every currency's rate."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from currency.client import CurrencyFreaksError
from currency.services import (
    CurrencyRateStatus,
    fx_rates_backfill,
    fx_rates_last_refresh,
    fx_rates_refresh,
    fx_rates_seed,
    fx_rates_status,
)
from currency.staleness import Staleness
from pipeline_pulse.display import age_words, plain_number

COLUMNS = ("currency", "units per USD", "SGD per unit", "as of (SGT)", "age", "source", "state")


class Command(BaseCommand):
    help = (
        "Fetch the latest CurrencyFreaks rates (or one past day's with --date), store them, "
        "re-convert open deals, and print each currency's rate and age. Exits 1 on failure."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--date",
            metavar="YYYY-MM-DD",
            help="Backfill the rates of this past day (for won deals' closing dates).",
        )
        action.add_argument(
            "--seed",
            action="store_true",
            help="Fetch nothing; store the bundled seed rates for currencies with no rate.",
        )
        action.add_argument(
            "--status", action="store_true", help="Fetch nothing; print the rates in effect."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        client_logger = logging.getLogger("currency.client")
        level = client_logger.level
        if options["verbosity"] < 2:
            # Retry notices are for the scheduled task's logs; here the outcome is the
            # message (-v 2 shows them while waiting).
            client_logger.setLevel(logging.ERROR)
        try:
            self._run(options)
        finally:
            client_logger.setLevel(level)

    def _run(self, options: dict[str, Any]) -> None:
        if options["seed"]:
            seeded = fx_rates_seed()
            self.stdout.write(
                f"Seed rates stored for: {', '.join(seeded)}"
                if seeded
                else "No seed rates needed: every configured currency has a rate."
            )
        elif options["status"]:
            last = fx_rates_last_refresh()
            if last is not None:
                outcome = "succeeded" if last.succeeded else "FAILED"
                when = timezone.localtime(last.at).strftime("%Y-%m-%d %H:%M")
                self.stdout.write(f"Last refresh {outcome} at {when}: {last.message}")
        else:
            self._fetch(options["date"])
        self.stdout.write(render_table(fx_rates_status()))

    def _fetch(self, day_text: str | None) -> None:
        try:
            if day_text is None:
                refresh = fx_rates_refresh()
            else:
                refresh = fx_rates_backfill(on=_past_date(day_text))
        except CurrencyFreaksError as exc:
            raise CommandError(str(exc)) from None
        as_of = timezone.localtime(refresh.as_of).strftime("%Y-%m-%d %H:%M %Z")
        summary = (
            f"Stored {len(refresh.stored)} rates as of {as_of}; "
            f"{refresh.reconverted} deals' SGD amounts updated"
        )
        self.stdout.write(self.style.SUCCESS(summary + "."))
        if refresh.missing:
            self.stdout.write(
                self.style.WARNING(
                    f"Not in the answer (last known rate kept): {', '.join(refresh.missing)}"
                )
            )


def _past_date(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--date must be a date like 2024-03-31, not {text!r}") from None
    if day > timezone.localdate():
        raise CommandError(f"--date {day} is in the future")
    return day


def render_table(statuses: list[CurrencyRateStatus]) -> str:
    """The rates in effect as a plain-text table, seed and stale rates spelled out."""
    now = timezone.now()
    rows = [COLUMNS] + [
        (
            status.currency,
            plain_number(status.units_per_usd),
            plain_number(status.sgd_per_unit),
            timezone.localtime(status.as_of).strftime("%Y-%m-%d %H:%M") if status.as_of else "—",
            age_words(status.as_of, now=now, suffix="old") if status.as_of else "—",
            status.source or "—",
            status.staleness.value if status.staleness is not Staleness.MISSING else "NO RATE",
        )
        for status in statuses
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines)
