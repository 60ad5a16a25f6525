"""`manage.py demo` builds an org with a past: months of its team's work, synced day by day on a
moved clock, so history, pushes, days in stage, "What changed" and the trend are real."""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from opportunities.models import (
    ChangeEvent,
    ChangeKind,
    Opportunity,
    PhaseTransition,
    PipelineSnapshot,
    SnapshotSource,
    StageMapping,
)
from pipeline_pulse.management.demo_history import HistoryUnavailable, history_plan
from simulator.dataset import STAGES_BY_NAME
from sync.models import SyncKind, SyncRun, SyncStatus

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 10, 11, 0, tzinfo=ZoneInfo("Asia/Singapore"))
DEALS, DAYS = 150, 100


def test_the_demo_org_has_a_past() -> None:
    """One demo build (it takes a while), every property of its history checked on it."""
    out = _demo_org()
    _synced_day_by_day_and_today(out)
    _deals_have_a_past_with_real_dates()
    _what_changed_shows_every_kind_of_change()
    _every_stage_mapped_names_unique_probabilities_varied()
    _trend_of_ninety_days_taken_on_the_day_without_a_jump()


def _demo_org() -> str:
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command(
            "demo",
            "--no-serve",
            "--no-activity",
            "--deals",
            str(DEALS),
            "--history-days",
            str(DAYS),
            "--simulator-port",
            "0",
            stdout=out,
        )
    return out.getvalue()


def _synced_day_by_day_and_today(demo_org: str) -> None:
    runs = list(SyncRun.objects.order_by("started_at"))
    plan = history_plan(deals=DEALS, days=DAYS)
    first, last = runs[0], runs[-1]

    assert all(run.status == SyncStatus.SUCCEEDED for run in runs)
    assert first.kind == SyncKind.FULL
    assert first.created == plan.initial_deals < DEALS
    assert timezone.localdate(first.started_at) == NOW.date() - timedelta(days=DAYS)
    # One sync per working day of the history (weekends are quiet), then one today.
    assert len(runs) > DAYS * 0.6
    assert (last.kind, last.started_at) == (SyncKind.INCREMENTAL, NOW)
    assert "History: " in demo_org
    assert Opportunity.objects.live().count() > plan.initial_deals


def _deals_have_a_past_with_real_dates() -> None:
    live = Opportunity.objects.live()
    moves = PhaseTransition.objects.filter(from_phase__isnull=False)
    move_days = {timezone.localdate(at) for at in moves.values_list("occurred_at", flat=True)}

    assert moves.count() > 20
    assert len(move_days) > 20  # on many days, not all at the demo's start
    assert (
        moves.filter(is_backwards=True).exists()
        or ChangeEvent.objects.filter(kind=ChangeKind.PHASE_BACKWARD).exists()
    )
    assert live.filter(closing_date_push_count__gt=0).count() >= 5
    # Days in the current phase vary: deals entered it on many different days.
    entered = {
        timezone.localdate(at) for at in live.open().values_list("phase_entered_at", flat=True)
    }
    assert len(entered) > 15


def _what_changed_shows_every_kind_of_change() -> None:
    since = NOW.date() - timedelta(days=90)
    recent = ChangeEvent.objects.since(since)
    kinds = set(recent.values_list("kind", flat=True))

    assert {
        ChangeKind.NEW,
        ChangeKind.CLOSING_DATE_PUSHED,
        ChangeKind.CLOSING_DATE_PULLED_IN,
        ChangeKind.AMOUNT_UP,
        ChangeKind.AMOUNT_DOWN,
        ChangeKind.PHASE_FORWARD,
        ChangeKind.WON,
        ChangeKind.LOST,
    } <= kinds
    days = {timezone.localdate(at) for at in recent.values_list("occurred_at", flat=True)}
    assert len(days) > 30


def _every_stage_mapped_names_unique_probabilities_varied() -> None:
    live = Opportunity.objects.live()
    stages = set(live.values_list("stage", flat=True))
    mapped = {name.lower() for name in StageMapping.objects.values_list("stage", flat=True)}

    assert live.unmapped_stages() == []
    assert {stage.lower() for stage in stages} <= mapped
    assert {"Proposal submitted (60)", "Commercial negotiation (80)"} <= {
        mapping.stage for mapping in StageMapping.objects.all()
    }
    duplicates = live.values("name").annotate(n=Count("id")).filter(n__gt=1)
    assert not duplicates.exists()
    open_deals = list(live.open().values_list("stage", "probability"))
    off_default = [p for stage, p in open_deals if p != STAGES_BY_NAME[stage].probability]
    assert len(off_default) >= max(3, 0.1 * len(open_deals))
    assert len({p for _, p in open_deals}) > len({stage for stage, _ in open_deals})


def _trend_of_ninety_days_taken_on_the_day_without_a_jump() -> None:
    rows = PipelineSnapshot.objects.by_health().order_by("day")
    days = sorted(set(rows.values_list("day", flat=True)))
    first = NOW.date() - timedelta(days=89)

    assert days == [first + timedelta(days=n) for n in range(90)]
    assert set(rows.values_list("source", flat=True)) == {SnapshotSource.LIVE}
    per_day: Counter[object] = Counter()
    for day, count in rows.values_list("day", "deal_count"):
        per_day[day] += count
    counts = [per_day[day] for day in days]
    # The pipeline moves a little each day, never by a fifth overnight.
    for before, after in pairwise(counts):
        assert abs(after - before) <= max(3, before * 0.2), (before, after)
    # Won and lost deals in the last 90 days, as "What changed" shows them.
    recent = ChangeEvent.objects.since(first)
    assert recent.filter(kind=ChangeKind.WON).exists()
    assert recent.filter(kind=ChangeKind.LOST).exists()


def test_without_time_machine_the_org_is_pulled_as_it_stands_today(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`make demo` installs the runtime dependencies only: without time-machine the product's
    clock cannot move, so the simulated org replays its past alone and one full sync pulls
    it as it stands today."""

    def unavailable() -> None:
        raise HistoryUnavailable("time-machine is not installed")

    monkeypatch.setattr("pipeline_pulse.management.demo_history._time_machine", unavailable)
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command(
            "demo",
            "--no-serve",
            "--no-activity",
            "--deals",
            "40",
            "--history-days",
            "20",
            "--simulator-port",
            "0",
            stdout=out,
        )

    run = SyncRun.objects.get()
    assert (run.kind, run.status, run.started_at) == (SyncKind.FULL, SyncStatus.SUCCEEDED, NOW)
    assert run.created > history_plan(deals=40, days=20).initial_deals  # the org of today
    assert "the org is pulled without its past" in out.getvalue()
