"""`manage.py export_opportunities`: every live deal as CSV (stdout or a file) or Excel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opportunities.exports import opportunities_write_csv
from opportunities.exports_xlsx import opportunities_write_xlsx
from opportunities.models import Opportunity


class Command(BaseCommand):
    help = (
        "Export every deal still in Zoho (not deleted), one row per deal: CSV to stdout or "
        "--output, or an Excel workbook to --output."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument(
            "--output",
            type=Path,
            metavar="FILE",
            help="Write to this file (replaced if it exists). Required for xlsx; CSV goes to "
            "stdout without it.",
        )
        parser.add_argument(
            "--bom",
            action="store_true",
            help="Start the CSV with a UTF-8 byte-order mark, for Excel (which otherwise "
            "garbles accented names).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path | None = options["output"]
        if output is not None and not output.parent.is_dir():
            raise CommandError(f"Cannot write {output}: {output.parent} is not a directory.")
        deals = Opportunity.objects.live().order_by("zoho_id")
        try:
            if options["format"] == "xlsx":
                if output is None:
                    raise CommandError("--format xlsx needs --output FILE: a workbook is not text.")
                count = opportunities_write_xlsx(deals, output)
            elif output is not None:
                with output.open("w", encoding="utf-8", newline="") as stream:
                    count = opportunities_write_csv(deals, stream, bom=options["bom"])
            else:
                count = opportunities_write_csv(deals, self.stdout, bom=options["bom"])
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}") from None
        where = f" to {output}" if output is not None else ""
        self.stderr.write(f"Exported {count:,} deals{where}.")
