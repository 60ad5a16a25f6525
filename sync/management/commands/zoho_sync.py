"""`manage.py zoho_sync [--full]`: one sync in the foreground, with progress and a summary."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger
from sync.services import SyncAlreadyRunning, zoho_sync_with_push


class TerminalProgress:
    """One line, redrawn in place: a bar when the total is known, counts always."""

    width = 30

    def __init__(self, stream: OutputWrapper) -> None:
        self.stream = stream
        self.started = time.monotonic()

    def __call__(self, run: SyncRun) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        percent = run.progress_percent
        bar = ""
        if percent is not None:
            filled = self.width * percent // 100
            bar = f"[{'#' * filled}{'.' * (self.width - filled)}] {percent:3d}% "
        self.stream.write(
            f"\r{bar}{run.fetched:,} deals · page {run.pages} · "
            f"{run.fetched / elapsed:,.0f}/s · {run.deleted:,} deleted   ",
            ending="",
        )
        self.stream.flush()


class Command(BaseCommand):
    help = "Pull deals from Zoho CRM now (incremental unless --full) and print the run's summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="Re-read every deal from Zoho.")

    def handle(self, *args: Any, **options: Any) -> None:
        kind = SyncKind.FULL if options["full"] else SyncKind.INCREMENTAL
        progress = TerminalProgress(self.stdout) if self.stdout.isatty() else None
        try:
            run = zoho_sync_with_push(kind=kind, trigger=SyncTrigger.COMMAND, progress=progress)
        except SyncAlreadyRunning as exc:
            raise CommandError(str(exc)) from None
        if progress:
            self.stdout.write("")
        self._summary(run)
        if run.status != SyncStatus.SUCCEEDED:
            raise CommandError(f"Sync failed: {run.error}")

    def _summary(self, run: SyncRun) -> None:
        duration = run.duration.total_seconds() if run.duration else 0.0
        self.stdout.write(
            f"{run.get_kind_display()} sync {run.get_status_display().lower()} "
            f"in {duration:.1f} s ({run.api_calls} API calls, {run.pages} pages)"
        )
        for label, value in (
            ("fetched", run.fetched),
            ("created", run.created),
            ("updated", run.updated),
            ("unchanged", run.unchanged),
            ("deleted", run.deleted),
            ("skipped (malformed)", run.skipped),
            ("failed", run.failed),
            ("unmapped stages", run.unmapped_stages),
        ):
            self.stdout.write(f"  {label:<20} {value:>8,}")
        for issue in run.issues.all()[:20]:
            self.stdout.write(f"  ! {issue.zoho_id} ({issue.severity}): {issue.reason}")
        more = run.issues.count() - 20
        if more > 0:
            self.stdout.write(f"  ... and {more} more issues (see the admin, Sync runs)")
