"""The three-way merge, case by case: base (last seen from Zoho), local edit, Zoho now."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from opportunities.merge import ConflictPolicy, MergeResult, Strategy, merge, parse_field_strategies

EDITED = datetime(2026, 6, 1, 10, tzinfo=UTC)
ZOHO_CHANGED = datetime(2026, 6, 1, 11, tzinfo=UTC)


def _merge(
    field: str,
    base: object,
    local: object,
    zoho: object,
    policy: ConflictPolicy | None = None,
    *,
    edited_at: datetime = EDITED,
    in_conflict: frozenset[str] = frozenset(),
) -> MergeResult:
    return merge(
        base={field: base},
        local={field: local},
        zoho={field: zoho},
        pending={field},
        local_edited_at={field: edited_at},
        zoho_modified_at=ZOHO_CHANGED,
        policy=policy or ConflictPolicy(),
        in_conflict=in_conflict,
    )


def test_changed_only_here_is_kept_and_pushed() -> None:
    result = _merge("closing_date", "2026-07-01", "2026-08-01", "2026-07-01")
    assert (result.keep_local, result.pending, result.conflicts) == (
        {"closing_date"},
        {"closing_date"},
        [],
    )


def test_changed_on_both_sides_to_the_same_value_is_settled_quietly() -> None:
    # "1000.0" from Zoho's JSON and "1000.00" from the database are the same amount.
    result = _merge("amount", "900.00", "1000.00", "1000.0")
    assert (result.keep_local, result.pending, result.conflicts) == (set(), set(), [])


@pytest.mark.parametrize(
    ("strategy", "edited_at", "settled", "kept"),
    [
        (Strategy.CRM_WINS, EDITED, "take_zoho", False),
        (Strategy.LOCAL_WINS, EDITED, "keep_local", True),
        (Strategy.NEWEST_WINS, EDITED, "take_zoho", False),  # Zoho's change came later
        (Strategy.NEWEST_WINS, datetime(2026, 6, 1, 12, tzinfo=UTC), "keep_local", True),
        (Strategy.MANUAL, EDITED, "", True),
    ],
)
def test_a_conflict_is_settled_by_the_strategy(
    strategy: Strategy, edited_at: datetime, settled: str, kept: bool
) -> None:
    policy = ConflictPolicy(default=strategy)
    result = _merge(
        "closing_date", "2026-07-01", "2026-08-01", "2026-09-01", policy, edited_at=edited_at
    )
    (conflict,) = result.conflicts
    assert (conflict.strategy, conflict.settled) == (strategy, settled)
    assert (conflict.base, conflict.local, conflict.zoho) == (
        "2026-07-01",
        "2026-08-01",
        "2026-09-01",
    )
    assert ("closing_date" in result.keep_local) is kept
    assert ("closing_date" in result.pending) is kept


def test_per_field_strategies_override_the_default() -> None:
    policy = ConflictPolicy(
        default=Strategy.CRM_WINS, by_field={"probability": Strategy.LOCAL_WINS}
    )
    assert _merge("probability", 40, 60, 50, policy).conflicts[0].settled == "keep_local"
    assert _merge("stage", "A", "B", "C", policy).conflicts[0].settled == "take_zoho"


@pytest.mark.parametrize(
    ("local", "zoho", "manual"),
    [("1000.00", "1200.00", False), ("1000.00", "1300.00", True), ("1000.00", None, True)],
)
def test_an_amount_conflict_of_more_than_20_percent_is_always_manual(
    local: str, zoho: str | None, manual: bool
) -> None:
    policy = ConflictPolicy(default=Strategy.LOCAL_WINS)
    (conflict,) = _merge("amount", "900.00", local, zoho, policy).conflicts
    assert (conflict.strategy == Strategy.MANUAL) is manual
    # 1000 vs 1200: differ by 200, 16.7% of the larger; 1000 vs 1300: 23%.
    assert Decimal("0.20") == policy.manual_amount_change


def test_a_field_in_an_open_conflict_waits_for_a_person() -> None:
    result = _merge("stage", "A", "B", "D", in_conflict=frozenset({"stage"}))
    assert (result.keep_local, result.pending, result.conflicts) == ({"stage"}, {"stage"}, [])


def test_field_strategies_are_read_and_checked() -> None:
    assert parse_field_strategies(" amount=manual , closing_date=local_wins,") == {
        "amount": "manual",
        "closing_date": "local_wins",
    }
    for bad in ("amount", "name=manual", "amount=maybe"):
        with pytest.raises(ValueError, match="not field=strategy"):
            parse_field_strategies(bad)
