"""The recompute_health and pipeline_snapshot commands, and the nightly beat task."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import psycopg
import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from opportunities.models import Opportunity, PipelineSnapshot
from opportunities.tasks import HEALTH_DAILY_LOCK_KEY, health_daily
from opportunities.tests.factories import OpportunityFactory
from pipeline_pulse.celery import app

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 15, 9, 0, tzinfo=ZoneInfo("Asia/Singapore"))


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@time_machine.travel(NOW, tick=False)
def test_recompute_health_prints_the_count_per_state() -> None:
    OpportunityFactory.create(amount_sgd=Decimal("1.00"))
    OpportunityFactory.create(amount_sgd=Decimal("1.00"), closing_date=date(2026, 6, 1))
    OpportunityFactory.create(amount_sgd=None)
    output = run("recompute_health", "--chunk-size", "2")
    assert "Recomputed the health of 3 deals" in output
    lines = [line.split() for line in output.splitlines()[1:]]
    assert lines == [["Danger", "1"], ["Warning", "0"], ["Success", "1"], ["Neutral", "1"]]


@time_machine.travel(NOW, tick=False)
def test_pipeline_snapshot_for_today_a_date_and_a_range() -> None:
    OpportunityFactory.create(amount_sgd=Decimal("1.00"), zoho_created_time=NOW.replace(month=1))
    assert run("pipeline_snapshot") == "2026-06-15  taken live\n"
    assert run("pipeline_snapshot", "--date", "2026-06-10") == "2026-06-10  reconstructed\n"
    output = run("pipeline_snapshot", "--from", "2026-06-13")
    assert output.splitlines() == [
        "2026-06-13  reconstructed",
        "2026-06-14  reconstructed",
        "2026-06-15  taken live",
    ]
    assert PipelineSnapshot.objects.values("day").distinct().count() == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--date", "15/06/2026"), "is not a date"),
        (("--date", "2026-06-16"), "in the future"),
        (("--to", "2026-06-10"), "--to needs --from"),
        (("--date", "2026-06-10", "--from", "2026-06-01"), "either --date or --from"),
        (("--from", "2026-06-10", "--to", "2026-06-01"), "before it starts"),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_pipeline_snapshot_explains_bad_input(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("pipeline_snapshot", *args)
    assert not PipelineSnapshot.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_daily_task_rescores_then_snapshots() -> None:
    deal = OpportunityFactory.create(amount_sgd=Decimal("5.00"), closing_date=date(2026, 6, 14))
    counts = health_daily.apply().get()
    assert counts == {"danger": 1, "warning": 0, "success": 0, "neutral": 0}
    assert Opportunity.objects.get(pk=deal.pk).health_status == "danger"
    danger = PipelineSnapshot.objects.get(day=date(2026, 6, 15), bucket="danger")
    assert (danger.deal_count, danger.amount_sgd, danger.source) == (1, Decimal("5.00"), "live")


def test_beat_runs_the_daily_task_just_after_midnight_in_singapore() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["health-daily"]
    assert entry["schedule"] == crontab(hour=0, minute=5)
    assert settings.CELERY_TIMEZONE == "Asia/Singapore"
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


@contextmanager
def _lock_held_by_another_session(key: int) -> Iterator[None]:
    """The session-level advisory lock `key`, held by a connection of its own, as another
    worker's run holds it."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [key])
        yield


@time_machine.travel(NOW, tick=False)
def test_the_daily_task_skips_while_another_worker_runs_it() -> None:
    deal = OpportunityFactory.create(amount_sgd=Decimal("5.00"), closing_date=date(2026, 6, 14))
    Opportunity.objects.filter(pk=deal.pk).update(health_status="success")
    with _lock_held_by_another_session(HEALTH_DAILY_LOCK_KEY):
        assert health_daily.apply().get() == {}
    assert Opportunity.objects.get(pk=deal.pk).health_status == "success"
    assert not PipelineSnapshot.objects.exists()
    # Once the other run is over, the next one does the work.
    assert health_daily.apply().get()["danger"] == 1
