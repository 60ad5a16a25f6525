"""Daily pipeline snapshots, taken live or rebuilt from history, and change-event queries."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from opportunities.models import ChangeEvent, Opportunity, PipelineSnapshot
from opportunities.services import health_recompute
from opportunities.services.crm import opportunities_mark_deleted
from opportunities.services.snapshots import (
    pipeline_snapshot_backfill,
    pipeline_snapshot_reconstruct,
    pipeline_snapshot_take,
)
from opportunities.tests.factories import OpportunityFactory
from opportunities.tests.syncing import sync_new, sync_page

pytestmark = pytest.mark.django_db
SGT = ZoneInfo("Asia/Singapore")
TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 9, 0, tzinfo=SGT)


def rows_of(day: date) -> dict[tuple[str, str], tuple[int, Decimal, Decimal, int]]:
    return {
        (row.dimension, row.bucket): (
            row.deal_count,
            row.amount_sgd,
            row.weighted_sgd,
            row.without_sgd_count,
        )
        for row in PipelineSnapshot.objects.for_day(day)
    }


@time_machine.travel(NOW, tick=False)
def test_todays_totals_equal_a_direct_computation() -> None:
    def deal(**fields: object) -> Opportunity:
        return OpportunityFactory.create(**fields)

    deal(phase=1, amount_sgd=Decimal("1000.10"), probability=10)
    deal(phase=1, amount_sgd=Decimal("333.33"), probability=33)
    deal(phase=2, amount_sgd=None, probability=40)  # counted, left out of the SGD totals
    deal(phase=3, amount_sgd=Decimal("50000.00"), probability=None)  # weighs nothing
    deal(phase=3, amount_sgd=Decimal("2500.00"), probability=75, closing_date=date(2026, 6, 1))
    deal(phase=4, outcome="won", amount_sgd=Decimal("9000.00"), probability=100)
    deal(phase=4, outcome="won", amount_sgd=Decimal("7.00"), revenue_recognised_on=TODAY)
    deal(phase=3, outcome="lost", amount_sgd=Decimal("800.00"))
    deal(phase=2, is_deleted=True, amount_sgd=Decimal("900.00"))
    health_recompute()

    stored = pipeline_snapshot_take()
    assert len(stored) == 8
    assert {row.source for row in stored} == {"live"}

    pipeline = [
        d
        for d in Opportunity.objects.filter(is_deleted=False)
        if d.outcome == "open" or (d.outcome == "won" and d.revenue_recognised_on is None)
    ]
    expected = {}
    for dimension, key_of, keys in (
        ("phase", lambda d: str(d.phase), ["1", "2", "3", "4"]),
        ("health", lambda d: d.health_status, ["success", "warning", "danger", "neutral"]),
    ):
        for key in keys:
            bucket = [d for d in pipeline if key_of(d) == key]
            converted = [(d.amount_sgd, d.probability or 0) for d in bucket if d.amount_sgd]
            amount = sum((sgd for sgd, _ in converted), Decimal(0))
            weighted = sum((sgd * p / 100 for sgd, p in converted), Decimal(0))
            weighted = weighted.quantize(Decimal("0.01"), ROUND_HALF_UP)
            without = sum(1 for d in bucket if d.amount_sgd is None)
            expected[(dimension, key)] = (len(bucket), amount, weighted, without)
    assert rows_of(TODAY) == expected
    assert expected[("phase", "1")] == (2, Decimal("1333.43"), Decimal("210.01"), 0)
    assert expected[("health", "danger")][0] == 1
    assert expected[("health", "neutral")] == (1, Decimal(0), Decimal(0), 1)


@time_machine.travel(NOW, tick=False)
def test_re_running_a_day_replaces_its_rows() -> None:
    deal = OpportunityFactory.create(phase=2, amount_sgd=Decimal("100.00"), probability=50)
    pipeline_snapshot_take()
    Opportunity.objects.filter(pk=deal.pk).update(amount_sgd=Decimal("300.00"))
    pipeline_snapshot_take()
    assert PipelineSnapshot.objects.count() == 8
    assert rows_of(TODAY)[("phase", "2")] == (1, Decimal("300.00"), Decimal("150.00"), 0)
    assert PipelineSnapshot.objects.for_day(TODAY).by_phase().count() == 4
    assert PipelineSnapshot.objects.for_day(TODAY).by_health().count() == 4


def test_a_past_day_is_rebuilt_as_it_was_taken_live() -> None:
    day_a = datetime(2026, 6, 1, 10, 0, tzinfo=SGT)
    with time_machine.travel(day_a, tick=False):
        common = {"zoho_created_time": day_a}
        pushed = sync_new(
            stage="Qualification",
            probability=10,
            amount=Decimal("10000.00"),
            closing_date=date(2026, 7, 1),
            **common,
        )
        backwards = sync_new(
            stage="Negotiation/Review",
            probability=85,  # a warning on the day: high probability and no PO
            amount=Decimal("50000.00"),
            closing_date=date(2026, 6, 20),
            **common,
        )
        won = sync_new(stage="Proposal/Price Quote", probability=60, **common)
        lost = sync_new(stage="Needs Analysis", probability=30, **common)
        deleted = sync_new(stage="Qualification", **common)

    snapshot_day = date(2026, 6, 3)
    with time_machine.travel(datetime(2026, 6, 3, 0, 5, tzinfo=SGT), tick=False):
        health_recompute()
        pipeline_snapshot_take()
    taken_live = rows_of(snapshot_day)
    assert taken_live[("health", "warning")][0] == 1

    day_c = datetime(2026, 6, 5, 10, 0, tzinfo=SGT)
    with time_machine.travel(day_c, tick=False):
        sync_page(
            {
                pushed: {"closing_date": date(2026, 7, 15), "amount": Decimal("15000.00")},
                backwards: {"stage": "Needs Analysis"},
                won: {"stage": "Closed Won"},
                lost: {"stage": "Closed Lost"},
            }
        )
        opportunities_mark_deleted(deleted={deleted.zoho_id: day_c})
        sync_new(stage="Qualification", zoho_created_time=day_c)
        # A second push: two since the day, which rebuilt health must not count.
        sync_page({pushed: {"closing_date": date(2026, 8, 1)}})
    pushed.refresh_from_db()
    assert (pushed.closing_date_push_count, pushed.health_status) == (2, "warning")

    with time_machine.travel(datetime(2026, 6, 8, 9, 0, tzinfo=SGT), tick=False):
        PipelineSnapshot.objects.all().delete()
        rebuilt = pipeline_snapshot_reconstruct(day=snapshot_day)
    assert {row.source for row in rebuilt} == {"reconstructed"}
    assert rows_of(snapshot_day) == taken_live


def test_deals_are_in_a_rebuilt_day_only_from_their_creation_on() -> None:
    created = datetime(2026, 6, 9, 23, 59, tzinfo=SGT)
    with time_machine.travel(datetime(2026, 6, 12, 10, 0, tzinfo=SGT), tick=False):
        sync_new(stage="Qualification", zoho_created_time=created)
        # First seen by Pipeline Pulse today, but created in Zoho on the 9th.
        sync_new(stage="Qualification", zoho_created_time=created - timedelta(days=1))
        for day in (date(2026, 6, 9), date(2026, 6, 10)):
            pipeline_snapshot_reconstruct(day=day)
    assert rows_of(date(2026, 6, 9))[("phase", "1")][0] == 1
    assert rows_of(date(2026, 6, 10))[("phase", "1")][0] == 2


@time_machine.travel(NOW, tick=False)
def test_backfill_keeps_days_taken_live_unless_told_to_replace_them() -> None:
    OpportunityFactory.create(zoho_created_time=NOW - timedelta(days=30))
    with time_machine.travel(NOW - timedelta(days=2), tick=False):
        pipeline_snapshot_take()
    done = pipeline_snapshot_backfill(start=TODAY - timedelta(days=3), end=TODAY)
    assert done == [
        (date(2026, 6, 12), "reconstructed"),
        (date(2026, 6, 13), "kept (taken live on the day)"),
        (date(2026, 6, 14), "reconstructed"),
        (date(2026, 6, 15), "taken live"),
    ]
    sources = dict(
        PipelineSnapshot.objects.filter(bucket="1").values_list("day", "source").distinct()
    )
    assert sources[date(2026, 6, 13)] == "live"
    replaced = pipeline_snapshot_backfill(
        start=date(2026, 6, 13), end=date(2026, 6, 13), replace_live=True
    )
    assert replaced == [(date(2026, 6, 13), "reconstructed")]
    assert PipelineSnapshot.objects.count() == 4 * 8


@time_machine.travel(NOW, tick=False)
def test_backfill_refuses_the_future_and_upside_down_periods() -> None:
    with pytest.raises(ValueError, match="future"):
        pipeline_snapshot_backfill(start=TODAY, end=TODAY + timedelta(days=1))
    with pytest.raises(ValueError, match="before it starts"):
        pipeline_snapshot_backfill(start=TODAY, end=TODAY - timedelta(days=1))
    with pytest.raises(ValueError, match="not in the past"):
        pipeline_snapshot_reconstruct(day=TODAY)
    assert not PipelineSnapshot.objects.exists()


def test_change_events_are_queried_by_singapore_business_days() -> None:
    deal = OpportunityFactory.create()
    utc = ZoneInfo("UTC")
    # 16:30 UTC on 4 June is 00:30 on 5 June in Singapore.
    for kind, when in [
        ("won", datetime(2026, 6, 4, 15, 59, tzinfo=utc)),
        ("lost", datetime(2026, 6, 4, 16, 30, tzinfo=utc)),
        ("new", datetime(2026, 6, 6, 1, 0, tzinfo=utc)),
    ]:
        ChangeEvent.objects.create(opportunity=deal, kind=kind, occurred_at=when)
    events = ChangeEvent.objects
    on_the_4th = events.between(date(2026, 6, 4), date(2026, 6, 4))
    assert list(on_the_4th.values_list("kind", flat=True)) == ["won"]
    assert events.between(date(2026, 6, 5), date(2026, 6, 6)).counts_by_kind() == {
        "lost": 1,
        "new": 1,
    }
    assert events.since(date(2026, 6, 5)).of_kind("new").count() == 1
    assert timezone.localdate(events.of_kind("lost").get().occurred_at) == date(2026, 6, 5)
