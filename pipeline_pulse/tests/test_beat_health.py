"""The beat container's health check fails when beat stops sending its schedule."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django_celery_beat.models import IntervalSchedule, PeriodicTask

pytestmark = pytest.mark.django_db
NOW = datetime(2027, 3, 31, 23, 30, tzinfo=ZoneInfo("Asia/Singapore"))


def _entry(name: str, *, minutes: int, last_run: datetime | None, enabled: bool = True) -> None:
    every, _ = IntervalSchedule.objects.get_or_create(
        every=minutes, period=IntervalSchedule.MINUTES
    )
    with time_machine.travel(NOW - timedelta(days=2), tick=False):  # beat wrote it two days ago
        PeriodicTask.objects.create(
            name=name, task=f"tasks.{name}", interval=every, last_run_at=last_run, enabled=enabled
        )


@time_machine.travel(NOW, tick=False)
def test_healthy_while_every_interval_entry_was_sent_within_two_intervals() -> None:
    _entry("zoho-sync-incremental", minutes=15, last_run=NOW - timedelta(minutes=34))
    _entry("currency-fx-rates-refresh", minutes=360, last_run=NOW - timedelta(hours=11))
    call_command("beat_health")


@time_machine.travel(NOW, tick=False)
def test_unhealthy_when_an_entry_is_late() -> None:
    _entry("zoho-sync-incremental", minutes=15, last_run=NOW - timedelta(minutes=36))
    _entry("currency-fx-rates-refresh", minutes=360, last_run=NOW - timedelta(hours=1))
    with pytest.raises(CommandError, match="late with: zoho-sync-incremental"):
        call_command("beat_health")


@time_machine.travel(NOW, tick=False)
def test_an_entry_never_sent_counts_from_when_beat_wrote_it() -> None:
    _entry("zoho-sync-incremental", minutes=15, last_run=None)
    with pytest.raises(CommandError, match="late"):
        call_command("beat_health")
    PeriodicTask.objects.update(date_changed=NOW - timedelta(minutes=1))  # beat just started
    call_command("beat_health")


@time_machine.travel(NOW, tick=False)
def test_other_tasks_and_disabled_entries_do_not_count() -> None:
    _entry("zoho-sync-incremental", minutes=15, last_run=NOW - timedelta(minutes=1))
    _entry("an-admins-own-task", minutes=1, last_run=NOW - timedelta(days=1))
    _entry("currency-fx-rates-refresh", minutes=360, last_run=None, enabled=False)
    call_command("beat_health")


def test_unhealthy_before_beat_wrote_its_schedule() -> None:
    with pytest.raises(CommandError, match="not written its schedule"):
        call_command("beat_health")
