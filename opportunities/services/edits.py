"""Local edits of a deal's O2R tracking fields: validated as Zoho would, pending until pushed.

The deal page's form, the API's PATCH and the admin all edit through `opportunity_edit`. The
new values are stored at once, so phase, SGD amount and health follow immediately, and each
edited field is marked pending; the last values seen from Zoho (`zoho_values`) stay as the
merge base until the push succeeds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import get_history_manager_for_model

from currency.codes import normalise_code
from currency.conversion import sgd_converter
from currency.services import currencies_accepted
from opportunities.access import can_edit_deal
from opportunities.data_version import deals_changed
from opportunities.deal_fields import (
    EDITABLE_FIELDS,
    FIELDS_BY_NAME,
    MONEY_PAIR,
    ZOHO_MAX_AMOUNT,
    FieldKind,
    with_money_pair,
    zoho_number_carries,
)
from opportunities.derivation import deal_derive
from opportunities.merge import json_value, same
from opportunities.models import Conflict, Opportunity, TransitionCause
from opportunities.services.history import DEAL_STATE, DealChange, deal_changes_record
from opportunities.signals import local_edits_saved
from opportunities.stage_rules import StageRules
from pipeline_pulse.dates import (
    BUSINESS_DATE_MESSAGE,
    EARLIEST_BUSINESS_DATE,
    LATEST_BUSINESS_DATE,
)
from pipeline_pulse.models import acting_user

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

MAX_AMOUNT = ZOHO_MAX_AMOUNT
CENT = Decimal("0.01")
# Zoho refuses a deal without these.
# The reasons the audit history gives for a deal's rows.
SYNCED_REASON = "As last synced from Zoho"
EDITED_REASON = "Edited in Pipeline Pulse"

REQUIRED = frozenset({"stage", "closing_date", "currency"})


def deal_edit_validate(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The edit's values, cleaned as Zoho would accept them; ValidationError naming each field
    that would be refused."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in changes.items():
        if name not in EDITABLE_FIELDS:
            errors[name] = "This field is kept in Zoho and cannot be edited here."
            continue
        try:
            cleaned[name] = _clean(name, value)
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _clean(name: str, value: Any) -> Any:
    field = FIELDS_BY_NAME[name]
    if value is None or value == "":
        if name in REQUIRED:
            raise ValueError(f"{field.label} is required in Zoho.")
        return None
    kind = field.kind
    if kind is FieldKind.DATE:
        return _date(value)
    if kind is FieldKind.PERCENT:
        return _percent(value)
    if kind is FieldKind.MONEY:
        return _money(value)
    if kind is FieldKind.CURRENCY:
        return _currency(value)
    text = str(value).strip()
    if not text:
        raise ValueError(f"{field.label} is required in Zoho.")
    if field.max_length and len(text) > field.max_length:
        raise ValueError(f"At most {field.max_length} characters.")
    if name == "stage":
        known = {stage.lower(): stage for stage in Opportunity.objects.stage_choices()}
        if text.lower() not in known:
            raise ValueError(f"“{text}” is not a stage of this Zoho org's pipeline.")
        return known[text.lower()]  # as Zoho spells it
    return text


def _date(value: Any) -> date:
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError("Enter a real date as YYYY-MM-DD.") from None
    if not EARLIEST_BUSINESS_DATE <= day <= LATEST_BUSINESS_DATE:
        raise ValueError(BUSINESS_DATE_MESSAGE)
    return day


def _currency(value: Any) -> str:
    code = normalise_code(value)
    if code is None:
        raise ValueError("Use a three-letter ISO 4217 currency code, e.g. USD.")
    accepted = currencies_accepted()
    if code not in accepted:
        raise ValueError(
            f"{code} is not one of this Zoho org's currencies ({', '.join(sorted(accepted))}); "
            "an Admin adds a currency to FX_CURRENCIES."
        )
    return code


def _percent(value: Any) -> int:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("Enter a whole number from 0 to 100.") from None
    if not number.is_finite() or number != number.to_integral_value() or not 0 <= number <= 100:
        raise ValueError("Enter a whole number from 0 to 100.")
    return int(number)


def _money(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError("Enter an amount, e.g. 125000.50.") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("An amount cannot be negative.")
    if amount != amount.quantize(CENT):
        raise ValueError("Zoho keeps amounts to the cent: at most 2 decimals.")
    if amount > MAX_AMOUNT:
        raise ValueError("That amount is larger than Zoho can hold (16 digits at most).")
    if not zoho_number_carries(amount.quantize(CENT)):
        # Sent as it is, Zoho would store another number; never rounded behind anyone's back.
        raise ValueError(
            "Zoho's numbers cannot carry that amount exactly: use fewer significant digits."
        )
    return amount.quantize(CENT)


@transaction.atomic
def opportunity_edit(
    *, deal: Opportunity, user: User | AnonymousUser, changes: Mapping[str, Any]
) -> Opportunity:
    """Store a person's edit of a deal and mark the changed fields pending for Zoho.

    Raises PermissionDenied when the login may not edit this deal, ValidationError (by field)
    when Zoho would refuse a value. Fields whose value does not change are ignored. Phase,
    SGD amount, history and health follow the new values in the same transaction.
    """
    if not can_edit_deal(user, deal):
        raise PermissionDenied("You may not edit this deal.")
    cleaned = deal_edit_validate(changes)
    locked = Opportunity.objects.select_for_update().get(pk=deal.pk)
    changed = {name: value for name, value in cleaned.items() if getattr(locked, name) != value}
    if changed:
        deal_local_values_store(deal=locked, values=changed, user=user, to_push=True)
        _open_conflicts_follow(locked, changed, user)
    return locked


def _open_conflicts_follow(
    deal: Opportunity, changed: Mapping[str, Any], user: User | AnonymousUser
) -> None:
    """An edit of a field waiting in an open conflict: the conflict shows the new local value
    (the one an Admin keeping "local" keeps). An edit of one half of the money pair while the
    other half waits: the pair is one value, so that half joins the conflict, and the Admin
    sees (and decides) both halves."""
    waiting = {c.field: c for c in Conflict.objects.open().filter(opportunity=deal)}
    if not waiting:
        return
    joining = set(MONEY_PAIR) - waiting.keys() if waiting.keys() & set(MONEY_PAIR) else set()
    base = deal.zoho_values or {}
    for name, value in changed.items():
        if name in waiting:
            conflict = waiting[name]
            conflict.local_value = json_value(value)
        elif name in joining and not same(name, json_value(value), base.get(name)):
            other = next(waiting[half] for half in MONEY_PAIR if half in waiting)
            conflict = Conflict(
                opportunity=deal,
                field=name,
                base_value=base.get(name),
                local_value=json_value(value),
                zoho_value=base.get(name),
                zoho_modified_time=other.zoho_modified_time,
                strategy=other.strategy,
            )
        else:
            continue
        conflict._history_user = acting_user(user)  # type: ignore[attr-defined]  # simple-history
        conflict._change_reason = "Edited here while waiting"  # type: ignore[attr-defined]
        conflict.save()


def deal_local_values_store(
    *,
    deal: Opportunity,
    values: Mapping[str, Any],
    user: User | AnonymousUser | None,
    to_push: bool,
    reason: str = EDITED_REASON,
) -> None:
    """Set fields of a locked deal to values decided here, and follow them through.

    With `to_push`, a field whose value now differs from the last one seen from Zoho is
    pending (to be pushed), edited now; one equal to Zoho's is not, unless it was pending
    already. Without it (a value taken
    from Zoho), the field is no longer pending. Either way Zoho's earlier refusal of the field
    is forgotten (with the other half of the money pair's). Phase, SGD amount, history (a local
    edit) and health follow at once; a push
    is queued after the commit when something is left to push.
    """
    previous = DealChange.before(deal.pk, {name: getattr(deal, name) for name in DEAL_STATE})
    now = timezone.now()
    latest = deal.history.order_by("-history_date", "-history_id").first()
    if latest is None or any(getattr(latest, n) != getattr(deal, n) for n in EDITABLE_FIELDS):
        # Syncs write deals in bulk, without history: before an edit, keep the values as Zoho
        # last brought them, so the audit trail shows each edit's true old value.
        get_history_manager_for_model(Opportunity).bulk_history_create(
            [deal], update=True, default_change_reason=SYNCED_REASON
        )
    for name, value in values.items():
        setattr(deal, name, value)
    _derive(deal)
    pending, edited_at = set(deal.pending_fields), dict(deal.local_edited_at)
    errors, refused = dict(deal.push_errors), dict(deal.refused_values)
    for name in with_money_pair(values):
        # A new decision about a value replaces the one Zoho refused (or that was set aside).
        errors.pop(name, None)
        refused.pop(name, None)
    for name, value in values.items():
        # Back to the value last seen from Zoho, a field already waiting stays pending: a
        # push whose answer was lost (a killed worker) may have taken the earlier value to
        # Zoho, so this one must go too (If-Unmodified-Since still guards it).
        changed_here = not same(name, json_value(value), deal.zoho_values.get(name))
        if to_push and (changed_here or name in pending):
            pending.add(name)
            edited_at[name] = now.isoformat()
        else:
            pending.discard(name)
            edited_at.pop(name, None)
    deal.pending_fields, deal.local_edited_at = sorted(pending), edited_at
    deal.push_errors, deal.refused_values = errors, refused
    deal.updated_by = acting_user(user)
    deal._history_user = acting_user(user)  # type: ignore[attr-defined]  # simple-history
    deal._change_reason = reason  # type: ignore[attr-defined]
    deal.save()
    deal_changes_record(changes=[previous], at=now, cause=TransitionCause.LOCAL_EDIT)
    deal.refresh_from_db()
    if deal.pending_fields:
        transaction.on_commit(lambda: local_edits_saved.send(Opportunity, ids=[deal.pk]))
    deals_changed()


def _derive(deal: Opportunity) -> None:
    """Phase, outcome and SGD amount from the edited values, as a sync derives them."""
    derived = deal_derive(
        deal, current_phase=deal.phase, rules=StageRules.load(), converter=sgd_converter()
    )
    deal.phase, deal.outcome = derived.placement.phase, derived.placement.outcome
    for name, value in derived.fx_values().items():
        setattr(deal, name, value)
