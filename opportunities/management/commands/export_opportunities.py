"""`manage.py export_opportunities --format csv`: every live deal, to stdout."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from opportunities.exports import opportunities_write_csv
from opportunities.models import Opportunity


class Command(BaseCommand):
    help = "Write every deal still in Zoho (not deleted) to stdout, one row per deal."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["csv"], default="csv")

    def handle(self, *args: Any, **options: Any) -> None:
        deals = Opportunity.objects.live().order_by("zoho_id")
        count = opportunities_write_csv(deals, self.stdout)
        self.stderr.write(f"Exported {count:,} deals.")
