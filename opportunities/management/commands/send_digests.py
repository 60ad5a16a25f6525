"""`manage.py send_digests`: send last week's digest now to everyone who wants it and has not
had it (each login at most once a week); `--dry-run` prints who would get what."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opportunities.digest import digest_recipients
from opportunities.services.digests import digest_subject, digests_send
from pipeline_pulse.display import day, sgd


class Command(BaseCommand):
    help = (
        "Send the weekly digest (last Monday to Sunday, Singapore) to every Manager and Viewer "
        "who has not opted out, and every Rep or Admin who opted in; never twice a week."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Print who would get what; send nothing."
        )
        parser.add_argument("--user", metavar="NAME", help="Only this login (its username).")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options.get("user")
        if username is not None and not digest_recipients(username):
            raise CommandError(
                f"No login {username!r} gets the digest (unknown, inactive, no e-mail address, "
                "no role, or opted out)."
            )
        run = digests_send(dry_run=options["dry_run"], username=username)
        week = f"{day(run.week[0])} to {day(run.week[1])}"
        if options["dry_run"]:
            self.stdout.write(f"Dry run, nothing sent. The digest of {week} would go to:")
            for digest in run.planned:
                self.stdout.write(
                    f"- {digest.user.username} <{digest.user.email}> ({digest.role}): "
                    f"{digest.total_changes} changes, {digest.danger.count} in Danger "
                    f"({sgd(digest.danger.sgd)}), {digest.slipped.count} slipped "
                    f"({sgd(digest.slipped.sgd)}), {digest.quarter_label} forecast "
                    f'{sgd(digest.forecast_total.sgd)} — "{digest_subject(digest)}"'
                )
            if not run.planned:
                self.stdout.write("- nobody")
        else:
            self.stdout.write(
                f"Digest of {week}: {len(run.sent)} sent"
                + (f" ({', '.join(run.sent)})" if run.sent else "")
                + f", {len(run.already_sent)} already sent this week"
                + (f", {len(run.failed)} failed ({', '.join(run.failed)})" if run.failed else "")
            )
        for name in run.already_sent:
            self.stdout.write(f"- {name}: already sent this week")
        if run.failed:
            raise CommandError(f"{len(run.failed)} digest(s) could not be sent: see the log.")
