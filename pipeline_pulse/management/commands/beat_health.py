"""`manage.py beat_health`: exit non-zero unless Celery beat is sending its schedule on time.

The health check of the `beat` container. A beat process can be alive and still send nothing
(its database or broker gone, a scheduler stuck); what proves it works is that each interval
entry of our schedule was sent within two of its intervals. Beat's database scheduler writes
the last send time back every few minutes, hence the margin.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

# Beat's database scheduler saves last_run_at every 3 minutes; allow for that and a slow start.
MARGIN = timedelta(minutes=5)


class Command(BaseCommand):
    help = "Fail unless Celery beat has sent each interval task of the schedule on time."

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        entries = PeriodicTask.objects.filter(
            name__in=list(settings.CELERY_BEAT_SCHEDULE), enabled=True, interval__isnull=False
        ).select_related("interval")
        late: list[str] = []
        for entry in entries:
            every: timedelta = entry.interval.schedule.run_every
            # Beat writes every entry when it starts: a new entry counts from then.
            sent = max(filter(None, (entry.last_run_at, entry.date_changed)))
            overdue = now - sent > 2 * every + MARGIN
            self.stdout.write(
                f"{entry.name}: every {every}, last sent {sent:%Y-%m-%d %H:%M:%S %Z}"
                + (" (late)" if overdue else "")
            )
            if overdue:
                late.append(entry.name)
        if not entries:
            raise CommandError("beat has not written its schedule to the database yet")
        if late:
            raise CommandError(f"beat is late with: {', '.join(late)}")
