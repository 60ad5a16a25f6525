"""`manage.py zoho_watch [--if-due]`: subscribe to Zoho's deal notifications, or renew the
channel, now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from sync.services.watch import WatchNotConfigured, zoho_watch_ensure
from sync.zoho import ZohoError


class Command(BaseCommand):
    help = (
        "Subscribe to Zoho CRM's deal notifications at ZOHO_NOTIFY_URL, or renew the channel "
        "now (--if-due: only when it is missing or close to lapsing)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-due",
            action="store_true",
            help="Leave a channel with more than ZOHO_NOTIFY_RENEW_MINUTES left alone.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            outcome = zoho_watch_ensure(force=not options["if_due"])
        except WatchNotConfigured as exc:
            raise CommandError(str(exc)) from None
        except ZohoError as exc:
            raise CommandError(f"Zoho refused the notification channel: {exc}") from None
        channel = outcome.channel
        expires = timezone.localtime(channel.expires_at) if channel.expires_at else None
        until = expires.strftime("%d %b %Y %H:%M %Z") if expires else "unknown"
        verb = {"subscribed": "Subscribed", "renewed": "Renewed", "current": "Still current"}
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb[outcome.action]}: channel {channel.channel_id} → {channel.notify_url}, "
                f"until {until}"
            )
        )
