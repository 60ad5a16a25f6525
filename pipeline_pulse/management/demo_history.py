"""The demo org's past: months of its sales team's work, synced as it happened.

`manage.py demo` starts the simulated Zoho org as it stood `days` days ago (fewer deals), maps
the org's own stages as an Admin would, and pulls it with a full sync at that moment. Then,
day by day on a moved clock (the simulator's and, through time-machine, the product's), the
team works (simulator.zoho_history) and an incremental sync at the end of each working day
records what changed, with that day's date: phase transitions, closing-date pushes, amounts,
wins and losses. For the days the dashboard's trend shows, each day starts as the nightly
job starts it: health recomputed, then the snapshot taken live, so the trend is continuous
up to today. Nothing here writes around the services: the history is the sync's own.
"""

from __future__ import annotations

import time as wall
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models.functions import Lower
from django.utils import timezone

from opportunities.models import Outcome, StageMapping
from opportunities.services import health_recompute
from opportunities.services.lifecycle import stage_mapping_save
from opportunities.services.snapshots import pipeline_snapshot_take
from simulator.dataset import STAGES
from simulator.timelines import SINGAPORE
from simulator.zoho import ZohoSimulator
from simulator.zoho_history import OrgHistory
from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger
from sync.services import zoho_sync

HISTORY_DAYS = 182  # about six months
# The team's rounds of edits per working day, for a 2,000-deal org (scaled to the org's size).
ROUNDS_PER_WORKDAY_AT_2000 = 12
# About one edit in nine of a round creates a deal (simulator.zoho_activity), two edits a round.
NEW_DEALS_PER_ROUND = 0.2
# New deals a working day besides the rounds', for a 2,000-deal org: the pipeline stays full.
NEW_DEALS_PER_WORKDAY_AT_2000 = 2.0
NIGHTLY = time(0, 5)  # when the nightly health recompute and snapshot run (settings' beat)
SYNC_AFTER_WORK = time(18, 30)

Echo = Callable[[str], None]


class HistoryUnavailable(RuntimeError):
    """The product's clock cannot be moved here (time-machine is not installed)."""


@dataclass(frozen=True)
class HistoryPlan:
    """How the demo org's past is played: its size at the start and the team's pace."""

    days: int
    initial_deals: int
    rounds_per_workday: int
    new_deals_per_workday: float


def history_plan(*, deals: int, days: int) -> HistoryPlan:
    """An org of about `deals` deals today, of fewer `days` days ago."""
    rounds = max(1, round(ROUNDS_PER_WORKDAY_AT_2000 * deals / 2000))
    extra = NEW_DEALS_PER_WORKDAY_AT_2000 * deals / 2000
    workdays = days * 5 // 7
    new_deals = round(workdays * (rounds * NEW_DEALS_PER_ROUND + extra))
    return HistoryPlan(
        days=days,
        initial_deals=max(deals // 2, deals - new_deals),
        rounds_per_workday=rounds,
        new_deals_per_workday=extra,
    )


def org_stages_map() -> list[str]:
    """Map the org's own stages (those outside Zoho's standard pipeline) as an Admin would in
    Admin → Stage mappings; the stages mapped now. Existing mappings are left as they are."""
    mapped = set(StageMapping.objects.annotate(key=Lower("stage")).values_list("key", flat=True))
    added = []
    for stage in STAGES:
        if stage.name.lower() in mapped:
            continue
        if stage.kind == "won":
            phase, outcome = 4, Outcome.WON
        elif stage.kind == "lost":
            phase, outcome = None, Outcome.LOST
        elif stage.kind == "proposal":
            phase, outcome = 3, Outcome.OPEN
        else:
            phase, outcome = (1 if stage.probability < 20 else 2), Outcome.OPEN
        stage_mapping_save(
            mapping=StageMapping(stage=stage.name, phase=phase, outcome=outcome), user=None
        )
        added.append(stage.name)
    return added


@dataclass(frozen=True)
class HistoryReport:
    days: int
    edits: int
    syncs: int
    snapshots: int
    seconds: float


def history_replay(
    zoho: ZohoSimulator,
    *,
    plan: HistoryPlan,
    trend_days: int,
    sync: bool,
    echo: Echo,
) -> HistoryReport:
    """Play the org's past up to yesterday; with `sync`, pull each day's work into the product
    at that day's time (a full sync first, at the start), with the trend's nightly snapshots.
    Without, only the simulated org moves on (the product already holds an earlier copy)."""
    if sync:
        _time_machine()  # before anything moves
    history = OrgHistory(
        zoho,
        rounds_per_workday=plan.rounds_per_workday,
        new_deals_per_workday=plan.new_deals_per_workday,
    )
    # The live team (simulator.zoho_activity) would play its due rounds at every listing of
    # the replay: it waits until the replay has caught up with today.
    live_team, zoho.activity = zoho.activity, None
    try:
        return _replay(zoho, history, plan=plan, trend_days=trend_days, sync=sync, echo=echo)
    finally:
        zoho.clock.resume()
        zoho.activity = live_team
        if live_team is not None:
            live_team.restart()  # its rounds count from now, not from the history's start


def _replay(
    zoho: ZohoSimulator,
    history: OrgHistory,
    *,
    plan: HistoryPlan,
    trend_days: int,
    sync: bool,
    echo: Echo,
) -> HistoryReport:
    started = wall.monotonic()
    first = zoho.clock.now()
    today = timezone.localdate()
    days = [first.astimezone(SINGAPORE).date() + timedelta(days=n) for n in range(1, plan.days)]
    days = [day for day in days if day < today]
    if not sync:
        for day in days:
            history.workday(day)
        return HistoryReport(len(days), len(history.edits), 0, 0, wall.monotonic() - started)
    traveller_of = _time_machine()
    syncs = snapshots = 0
    first_trend_day = today - timedelta(days=trend_days - 1)
    with traveller_of(first) as traveller:

        def at(moment: datetime) -> None:
            traveller.move_to(moment)
            zoho.clock.set(moment)

        _sync(SyncKind.FULL)
        syncs += 1
        for number, day in enumerate(days, start=1):
            if day >= first_trend_day:  # the nightly job: health for the day, then its snapshot
                at(datetime.combine(day, NIGHTLY, tzinfo=SINGAPORE))
                health_recompute()
                pipeline_snapshot_take()
                snapshots += 1
            if history.workday(day):
                at(datetime.combine(day, SYNC_AFTER_WORK, tzinfo=SINGAPORE))
                _sync(SyncKind.INCREMENTAL)
                syncs += 1
            if number % 30 == 0:
                echo(
                    f"  … {day:%d %b %Y}: {len(history.edits):,} edits, {syncs} syncs "
                    f"({wall.monotonic() - started:.0f} s)"
                )
    return HistoryReport(
        len(days), len(history.edits), syncs, snapshots, wall.monotonic() - started
    )


def _time_machine() -> Callable[[datetime], Any]:
    """time-machine's travel, frozen (tick=False): it moves the product's whole clock."""
    try:
        import time_machine
    except ImportError:
        raise HistoryUnavailable(
            "time-machine is not installed, so the product's clock cannot be moved"
        ) from None
    return lambda moment: time_machine.travel(moment, tick=False)


def _sync(kind: str) -> SyncRun:
    run = zoho_sync(kind=kind, trigger=SyncTrigger.COMMAND)
    if run.status != SyncStatus.SUCCEEDED:
        raise RuntimeError(f"A sync of the demo's history failed: {run.error}")
    return run
