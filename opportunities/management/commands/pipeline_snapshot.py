"""`manage.py pipeline_snapshot`: store today's pipeline totals, or rebuild past days'."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from opportunities.services.snapshots import pipeline_snapshot_backfill


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (expected YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = (
        "Store the pipeline snapshot of today (live) or of past days (reconstructed from the "
        "change history; days with a live snapshot are kept unless --replace-live). "
        "Re-running a day replaces its rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="One day, YYYY-MM-DD (default: today).")
        parser.add_argument("--from", dest="start", help="First day of a range, YYYY-MM-DD.")
        parser.add_argument("--to", dest="end", help="Last day of a range (default: today).")
        parser.add_argument(
            "--replace-live",
            action="store_true",
            help="Also rebuild past days that have a snapshot taken live on the day.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        if options["date"] and (options["start"] or options["end"]):
            raise CommandError("give either --date or --from/--to, not both")
        if options["end"] and not options["start"]:
            raise CommandError("--to needs --from")
        if options["start"]:
            start = _day(options["start"])
            end = _day(options["end"]) if options["end"] else today
        else:
            start = end = _day(options["date"]) if options["date"] else today
        try:
            done = pipeline_snapshot_backfill(
                start=start, end=end, replace_live=options["replace_live"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for day, action in done:
            self.stdout.write(f"{day.isoformat()}  {action}")
