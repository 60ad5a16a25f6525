"""The three-way merge of a deal: what Zoho says now, what was edited here, and the last values
seen from Zoho (the base).

Field by field, for the fields edited here and not yet pushed (amount and currency as one
value, never one from each side):
- changed only in Zoho (local equals base) → cannot happen for a pending field; a field whose
  local value equals the base is not pending;
- changed only here (Zoho still has the base) → keep the local value, still to push;
- changed on both sides to the same value → nothing to settle: no longer pending;
- changed on both sides to different values → a conflict, settled by the strategy in force
  for the field (`crm_wins`, `local_wins`, `newest_wins`, `manual`); an amount that either
  side moved by more than the configured share (20% by default) of its SGD value at the
  base is always settled by a person.
Fields not edited here simply take Zoho's value.

Pure: values in, decisions out. The CRM page service applies them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings

from opportunities.deal_fields import EDITABLE_FIELDS, FIELDS_BY_NAME, MONEY_PAIR, FieldKind


class Strategy(enum.StrEnum):
    CRM_WINS = "crm_wins"
    LOCAL_WINS = "local_wins"
    NEWEST_WINS = "newest_wins"
    MANUAL = "manual"


STRATEGIES = frozenset(strategy.value for strategy in Strategy)


@dataclass(frozen=True, slots=True)
class ConflictPolicy:
    """How conflicts are settled: a default strategy, per-field overrides, the amount rule."""

    default: Strategy = Strategy.CRM_WINS
    by_field: Mapping[str, Strategy] = field(default_factory=dict)
    # An amount conflict where either side moved the SGD value by more than this share of
    # the base's is always manual.
    manual_amount_change: Decimal = Decimal("0.20")

    def strategy_for(self, name: str) -> Strategy:
        return self.by_field.get(name, self.default)

    @classmethod
    def from_settings(cls) -> ConflictPolicy:
        """ZOHO_CONFLICT_STRATEGY, ZOHO_CONFLICT_STRATEGY_FIELDS (`field=strategy,...`) and
        ZOHO_CONFLICT_MANUAL_AMOUNT_CHANGE_PERCENT; checked at start-up (system checks)."""
        return cls(
            default=Strategy(settings.ZOHO_CONFLICT_STRATEGY),
            by_field={
                name: Strategy(strategy)
                for name, strategy in parse_field_strategies(
                    settings.ZOHO_CONFLICT_STRATEGY_FIELDS
                ).items()
            },
            manual_amount_change=Decimal(settings.ZOHO_CONFLICT_MANUAL_AMOUNT_CHANGE_PERCENT) / 100,
        )


@dataclass(frozen=True, slots=True)
class FieldConflict:
    """Both sides changed one field to different values, and how it was settled."""

    field: str
    base: Any  # JSON value, as stored in zoho_values
    local: Any
    zoho: Any
    strategy: Strategy
    # "take_zoho", "keep_local", or "" while a person has to decide (manual).
    settled: str


@dataclass
class MergeResult:
    keep_local: set[str] = field(default_factory=set)  # fields whose local value stays
    pending: set[str] = field(default_factory=set)  # fields still to push
    conflicts: list[FieldConflict] = field(default_factory=list)


def parse_field_strategies(text: str) -> dict[str, str]:
    """`amount=manual,closing_date=local_wins` → {"amount": "manual", ...}; ValueError when a
    part is not `field=strategy`, the field is not editable or the strategy is unknown."""
    strategies: dict[str, str] = {}
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        name, separator, strategy = (item.strip() for item in part.partition("="))
        if not separator or name not in EDITABLE_FIELDS or strategy not in STRATEGIES:
            raise ValueError(
                f"{part!r} is not field=strategy with an editable field and one of "
                f"{', '.join(Strategy)}"
            )
        strategies[name] = strategy
    return strategies


# An amount (JSON form) in a currency, in SGD; None when it cannot be converted.
SgdValue = Callable[[Any, Any], Decimal | None]


def merge(
    *,
    base: Mapping[str, Any],
    local: Mapping[str, Any],
    zoho: Mapping[str, Any],
    pending: set[str],
    local_edited_at: Mapping[str, datetime],
    zoho_modified_at: datetime,
    policy: ConflictPolicy,
    in_conflict: frozenset[str] | set[str] = frozenset(),
    to_sgd: SgdValue | None = None,
) -> MergeResult:
    """Decide each pending field. Values are the JSON forms kept in `zoho_values`; `local`
    holds both halves of the money pair when either is pending.

    A field already in an open manual conflict stays local and pending, whatever Zoho says
    now: the person deciding sees Zoho's newest value on the conflict. Amount and currency
    are decided together: both kept, or both Zoho's. `to_sgd` converts an amount for the
    20% rule (without it, only amounts in one currency compare, and others go to a person).
    """
    result = MergeResult()
    for unit in _units(pending):
        edited = {name for name in unit if name in pending}
        if any(name in in_conflict for name in unit):
            result.keep_local.update(unit)  # the pair stays whole while a person decides
            result.pending.update(edited)
            continue
        base_values = {name: base.get(name) for name in unit}
        local_values = {name: local.get(name) for name in unit}
        zoho_values = {name: zoho.get(name) for name in unit}
        if _same_values(zoho_values, base_values):
            result.keep_local.update(unit)  # changed only here: push it
            result.pending.update(edited)
            continue
        if _same_values(zoho_values, local_values):
            continue  # both sides agree: converged, nothing to push
        strategy = _strategy(unit, policy, base_values, local_values, zoho_values, to_sgd)
        edited_at = max((local_edited_at[n] for n in edited if n in local_edited_at), default=None)
        settled = _settle(strategy, edited_at, zoho_modified_at)
        if settled != "take_zoho":
            result.keep_local.update(unit)
            # Whatever differs from Zoho's value now has to reach Zoho.
            result.pending.update(
                name for name in unit if not same(name, local_values[name], zoho_values[name])
            )
        for name in unit:
            base_value, local_value, zoho_value = (
                base_values[name],
                local_values[name],
                zoho_values[name],
            )
            if same(name, base_value, local_value) and same(name, base_value, zoho_value):
                continue  # the half of the pair neither side moved
            result.conflicts.append(
                FieldConflict(name, base_value, local_value, zoho_value, strategy, settled)
            )
    return result


def _units(pending: set[str]) -> list[tuple[str, ...]]:
    """The pending fields as the values merged whole: the money pair together, others alone."""
    units: set[tuple[str, ...]] = set()
    for name in pending:
        units.add(MONEY_PAIR if name in MONEY_PAIR else (name,))
    return sorted(units)


def _same_values(first: Mapping[str, Any], second: Mapping[str, Any]) -> bool:
    return all(same(name, first[name], second[name]) for name in first)


def _strategy(
    unit: tuple[str, ...],
    policy: ConflictPolicy,
    base: Mapping[str, Any],
    local: Mapping[str, Any],
    zoho: Mapping[str, Any],
    to_sgd: SgdValue | None,
) -> Strategy:
    strategies = [policy.strategy_for(name) for name in unit]
    if unit == MONEY_PAIR and _big_move(base, local, zoho, policy.manual_amount_change, to_sgd):
        return Strategy.MANUAL
    # The pair is one value: a field set to manual makes the pair manual, else the amount's.
    return Strategy.MANUAL if Strategy.MANUAL in strategies else strategies[0]


def _settle(strategy: Strategy, edited_at: datetime | None, zoho_modified_at: datetime) -> str:
    if strategy is Strategy.CRM_WINS:
        return "take_zoho"
    if strategy is Strategy.LOCAL_WINS:
        return "keep_local"
    if strategy is Strategy.NEWEST_WINS:
        # An edit whose time is unknown is older than anything Zoho says.
        return "keep_local" if edited_at and edited_at > zoho_modified_at else "take_zoho"
    return ""


def _big_move(
    base: Mapping[str, Any],
    local: Mapping[str, Any],
    zoho: Mapping[str, Any],
    share: Decimal,
    to_sgd: SgdValue | None,
) -> bool:
    """Whether either side moved the amount by more than `share` of its value at the base,
    in SGD. A value that cannot be compared (an amount appearing or disappearing, a currency
    without a rate) counts as a big move: a person decides."""
    amounts = [_decimal(side.get("amount")) for side in (base, local, zoho)]
    if any(amount is None for amount in amounts):
        return True  # an amount appearing or disappearing is as big as a change gets
    currencies = {side.get("currency") for side in (base, local, zoho)}
    if len(currencies) == 1:
        values: list[Decimal | None] = list(amounts)  # one currency: no rate needed
    elif to_sgd is None:
        return True
    else:
        values = [to_sgd(side.get("amount"), side.get("currency")) for side in (base, local, zoho)]
    at_base, here, there = values
    if at_base is None or here is None or there is None:
        return True
    limit = share * abs(at_base)
    return abs(here - at_base) > limit or abs(there - at_base) > limit


def same(name: str, first: Any, second: Any) -> bool:
    """Whether two JSON values of a field mean the same ("1000.0" and "1000.00" do)."""
    kind = FIELDS_BY_NAME[name].kind
    if kind in (FieldKind.MONEY, FieldKind.RATE, FieldKind.PERCENT):
        return _decimal(first) == _decimal(second)
    return bool(first == second)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def json_value(value: object) -> object:
    """A field value as `zoho_values` keeps it: ISO dates and times, decimals as text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def python_value(name: str, value: Any) -> Any:
    """A field's JSON value (as zoho_values and conflicts keep it) back as a Python value."""
    if value is None:
        return None
    kind = FIELDS_BY_NAME[name].kind
    if kind is FieldKind.DATE:
        return date.fromisoformat(str(value))
    if kind is FieldKind.DATETIME:
        return datetime.fromisoformat(str(value))
    if kind in (FieldKind.MONEY, FieldKind.RATE):
        return Decimal(str(value))
    if kind is FieldKind.PERCENT:
        return int(Decimal(str(value)))
    return value
