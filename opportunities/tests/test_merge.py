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
    [
        ("1100.00", "1150.00", False),
        ("850.00", "1190.00", False),
        # The change each side made counts, not how far apart they ended: 30% here.
        ("1300.00", "1050.00", True),
        ("790.00", "1050.00", True),
        ("1100.00", None, True),
    ],
)
def test_an_amount_either_side_moved_more_than_20_percent_from_the_base_is_always_manual(
    local: str, zoho: str | None, manual: bool
) -> None:
    policy = ConflictPolicy(default=Strategy.LOCAL_WINS)
    (conflict,) = _merge("amount", "1000.00", local, zoho, policy).conflicts
    assert (conflict.strategy == Strategy.MANUAL) is manual
    assert Decimal("0.20") == policy.manual_amount_change


def _money_merge(
    base: tuple[str, str],
    local: tuple[str, str],
    zoho: tuple[str, str],
    pending: set[str],
    policy: ConflictPolicy | None = None,
) -> MergeResult:
    rates = {"USD": Decimal("1.35"), "SGD": Decimal("1"), "EUR": Decimal("1.45")}

    def to_sgd(amount: object, currency: object) -> Decimal | None:
        rate = rates.get(str(currency))
        return None if rate is None or amount is None else Decimal(str(amount)) * rate

    def pair(values: tuple[str, str]) -> dict[str, str]:
        return {"amount": values[0], "currency": values[1]}

    return merge(
        base=pair(base),
        local=pair(local),
        zoho=pair(zoho),
        pending=pending,
        local_edited_at=dict.fromkeys(pending, EDITED),
        zoho_modified_at=ZOHO_CHANGED,
        policy=policy or ConflictPolicy(),
        to_sgd=to_sgd,
    )


def test_amount_and_currency_are_merged_as_one_value() -> None:
    # Re-entered in SGD here; the USD amount revised in Zoho. crm_wins takes Zoho's pair
    # whole: USD 148,329.50, never SGD 148,329.50.
    result = _money_merge(
        ("134845.00", "USD"),
        ("182040.75", "SGD"),
        ("148329.50", "USD"),
        {"amount", "currency"},
    )
    assert (result.keep_local, result.pending) == (set(), set())
    assert {(c.field, c.settled, c.strategy) for c in result.conflicts} == {
        ("amount", "take_zoho", Strategy.CRM_WINS),
        ("currency", "take_zoho", Strategy.CRM_WINS),
    }

    kept = _money_merge(
        ("134845.00", "USD"),
        ("182040.75", "SGD"),
        ("148329.50", "USD"),
        {"amount", "currency"},
        ConflictPolicy(default=Strategy.LOCAL_WINS),
    )
    assert kept.keep_local == kept.pending == {"amount", "currency"}


def test_a_currency_changed_in_zoho_conflicts_with_an_amount_edited_here() -> None:
    # Only the amount was edited here; Zoho moved the deal to EUR. Keeping the local amount
    # means keeping its currency too: both go to Zoho.
    result = _money_merge(
        ("1000.00", "USD"),
        ("1100.00", "USD"),
        ("1000.00", "EUR"),
        {"amount"},
        ConflictPolicy(default=Strategy.LOCAL_WINS),
    )
    assert result.keep_local == result.pending == {"amount", "currency"}
    assert {c.field for c in result.conflicts} == {"amount", "currency"}


def test_the_20_percent_rule_reads_sgd_values() -> None:
    # The same 1,000 re-entered as EUR is a 7% move in SGD, not 0%; USD 1,000 → SGD 1,000 is
    # 26% down: a person decides.
    small = _money_merge(("1000.00", "USD"), ("1000.00", "EUR"), ("1050.00", "USD"), {"currency"})
    assert {c.strategy for c in small.conflicts} == {Strategy.CRM_WINS}
    big = _money_merge(("1000.00", "USD"), ("1000.00", "SGD"), ("1050.00", "USD"), {"currency"})
    assert {c.strategy for c in big.conflicts} == {Strategy.MANUAL}
    unknown = _money_merge(("1000.00", "USD"), ("1000.00", "XOF"), ("1050.00", "USD"), {"currency"})
    assert {c.strategy for c in unknown.conflicts} == {Strategy.MANUAL}  # no rate: a person


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
