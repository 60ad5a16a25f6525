"""Local edits on their way to the CRM: what to push, what the CRM answered, and conflicts
settled by a person.

The sync app does the talking to Zoho (sync.push); every write to deals and conflicts about it
happens here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from opportunities.access import can_edit_deal, is_admin
from opportunities.data_version import deals_changed
from opportunities.deal_fields import FIELDS_BY_NAME, with_money_pair
from opportunities.merge import json_value, python_value
from opportunities.models import Conflict, ConflictResolution, ConflictStatus, Opportunity
from opportunities.services.edits import (
    deal_edit_validate,
    deal_local_values_store,
    opportunity_edit,
)
from pipeline_pulse.models import acting_user

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


@dataclass(frozen=True, slots=True)
class PendingPush:
    """One deal's local edits, ready to send: field → value (Python), and the Modified_Time
    of the Zoho values they were made against (Zoho refuses the update if it changed since).

    `zoho_unread`: Zoho has newer values of the deal that could not be stored (malformed);
    the edit must be checked against the values it was made against, never a later moment.
    """

    opportunity_id: int
    zoho_id: str
    changes: Mapping[str, object]
    unmodified_since: datetime | None
    zoho_unread: bool = False


def pending_pushes(*, limit: int | None = None) -> list[PendingPush]:
    """Deals with edits to push, oldest change first: fields in an open conflict wait for a
    person, and fields Zoho refused wait for another edit. Amount and currency go together
    (both, or neither when either waits)."""
    deals = (
        Opportunity.objects.live()
        .exclude(pending_fields=[])
        .order_by("updated_at", "pk")
        .only(
            "id",
            "zoho_id",
            "pending_fields",
            "push_errors",
            "zoho_values",
            "zoho_unreadable",
            *FIELDS_BY_NAME,
        )
    )
    blocked: dict[int, set[str]] = {}
    for deal_id, name in Conflict.objects.open().values_list("opportunity_id", "field"):
        blocked.setdefault(deal_id, set()).add(name)
    pushes = []
    for deal in deals[:limit] if limit else deals:
        held = with_money_pair(blocked.get(deal.pk, set()) | set(deal.push_errors))
        names = with_money_pair(deal.pending_fields) - held
        if not names:
            continue
        modified = (deal.zoho_values or {}).get("zoho_modified_time")
        pushes.append(
            PendingPush(
                opportunity_id=deal.pk,
                zoho_id=deal.zoho_id,
                changes={name: getattr(deal, name) for name in sorted(names)},
                unmodified_since=datetime.fromisoformat(modified) if modified else None,
                zoho_unread=bool(deal.zoho_unreadable),
            )
        )
    return pushes


@transaction.atomic
def push_accepted(*, push: PendingPush, zoho_modified_time: datetime | None) -> list[str]:
    """Zoho took the values: they are its values now (the new merge base), and no longer
    pending unless edited again meanwhile. The fields no longer pending."""
    deal = Opportunity.objects.select_for_update().get(pk=push.opportunity_id)
    base = dict(deal.zoho_values or {})
    done = []
    for name, value in push.changes.items():
        base[name] = json_value(value)
        if getattr(deal, name) == value:  # not edited again since it was read for the push
            done.append(name)
    if zoho_modified_time is not None:
        base["zoho_modified_time"] = zoho_modified_time.isoformat()
        deal.zoho_modified_time = zoho_modified_time
    deal.zoho_values = base
    # Bookkeeping, not a change of the deal's values: the push itself is the sync run's record.
    deal.skip_history_when_saving = True  # type: ignore[attr-defined]  # simple-history
    deal.pending_fields = [name for name in deal.pending_fields if name not in done]
    deal.local_edited_at = {k: v for k, v in deal.local_edited_at.items() if k not in done}
    deal.save(
        update_fields=[
            "zoho_values",
            "zoho_modified_time",
            "pending_fields",
            "local_edited_at",
            "updated_at",
        ]
    )
    return done


@transaction.atomic
def push_refused(*, push: PendingPush, field: str | None, message: str) -> list[str]:
    """Zoho refused the update (INVALID_DATA and the like), or it could not be sent at all.

    Zoho applies none of a refused record's values. The field it names (or every field sent;
    amount and currency as one) is set aside with Zoho's message: the deal shows Zoho's value
    again, so totals never count a value Zoho does not hold, and the refused value waits on
    the deal page until someone sends it again or drops it. Other fields sent with it stay
    pending for the next push. The fields set aside.
    """
    deal = Opportunity.objects.select_for_update().get(pk=push.opportunity_id)
    names = [field] if field is not None and field in push.changes else list(push.changes)
    refused = sorted(with_money_pair(names) & set(deal.pending_fields))
    labels = ", ".join(FIELDS_BY_NAME[name].label for name in refused)
    deal_edits_set_aside(
        deal=deal,
        names=refused,
        message=message,
        restore_zoho=True,
        reason=f"Zoho refused {labels}: its value shown again, the refused one kept aside",
    )
    return refused


def deal_edits_set_aside(
    *, deal: Opportunity, names: Iterable[str], message: str, restore_zoho: bool, reason: str
) -> None:
    """Take pending local values of a locked deal out of the push: each is kept in
    `refused_values` with `message` (why) until a person sends it again or drops it.

    With `restore_zoho` the fields take Zoho's values back (phase, SGD amount and health
    follow); without it (a deal deleted in Zoho) they stay as they are. Audited with `reason`.
    """
    names = [name for name in names if name in deal.pending_fields]
    if not names:
        return
    kept = {name: json_value(getattr(deal, name)) for name in names}
    if restore_zoho:
        base = deal.zoho_values or {}
        deal_local_values_store(
            deal=deal,
            values={name: python_value(name, base.get(name)) for name in names},
            user=None,
            to_push=False,
            reason=reason,
        )
    else:
        deal.pending_fields = [name for name in deal.pending_fields if name not in kept]
        deal.local_edited_at = {k: v for k, v in deal.local_edited_at.items() if k not in kept}
    deal.refused_values = {**deal.refused_values, **kept}
    deal.push_errors = {**deal.push_errors, **dict.fromkeys(kept, message[:300])}
    if restore_zoho:
        # The values were saved and audited above: this is bookkeeping.
        deal.skip_history_when_saving = True  # type: ignore[attr-defined]  # simple-history
    else:
        deal._change_reason = reason  # type: ignore[attr-defined]  # simple-history
    deal.save(
        update_fields=[
            "pending_fields",
            "local_edited_at",
            "refused_values",
            "push_errors",
            "updated_at",
        ]
    )
    deals_changed()


# --- Values set aside, settled by a person -------------------------------------------------


@transaction.atomic
def refused_edit_send_again(
    *, deal: Opportunity, user: User | AnonymousUser, field: str
) -> Opportunity:
    """A person confirms a value Zoho refused or that was set aside (a deal deleted in Zoho,
    then restored): it is edited in again, validated as any edit, and sent with the next push.
    With its other half when the value is an amount or a currency."""
    locked, names = _set_aside_for(deal, user, field)
    values = {name: python_value(name, locked.refused_values[name]) for name in names}
    updated = opportunity_edit(deal=locked, user=user, changes=values)
    if set(names) & set(updated.refused_values):
        # The deal holds these values already (Zoho took them meanwhile): nothing to send.
        _refused_forget(updated, names, user, reason="Value set aside: Zoho holds it already")
    return updated


@transaction.atomic
def refused_edit_drop(*, deal: Opportunity, user: User | AnonymousUser, field: str) -> None:
    """A person drops a value Zoho refused or that was set aside: the deal keeps Zoho's value.
    With its other half when the value is an amount or a currency. Audited."""
    locked, names = _set_aside_for(deal, user, field)
    labels = ", ".join(FIELDS_BY_NAME[name].label for name in names)
    _refused_forget(locked, names, user, reason=f"Value set aside dropped: {labels}")


def _set_aside_for(
    deal: Opportunity, user: User | AnonymousUser, field: str
) -> tuple[Opportunity, list[str]]:
    """The deal locked, and the fields set aside that a decision about `field` covers."""
    if not can_edit_deal(user, deal):
        raise PermissionDenied("You may not edit this deal.")
    locked = Opportunity.objects.select_for_update().get(pk=deal.pk)
    names = sorted(with_money_pair([field]) & set(locked.refused_values))
    if not names:
        raise ValidationError("No value of this field is waiting for a decision.")
    return locked, names


def _refused_forget(
    deal: Opportunity, names: Iterable[str], user: User | AnonymousUser, *, reason: str
) -> None:
    deal.refused_values = {k: v for k, v in deal.refused_values.items() if k not in names}
    deal.push_errors = {k: v for k, v in deal.push_errors.items() if k not in names}
    deal._history_user = acting_user(user)  # type: ignore[attr-defined]  # simple-history
    deal._change_reason = reason  # type: ignore[attr-defined]
    deal.save(update_fields=["refused_values", "push_errors", "updated_at"])
    deals_changed()


# --- Conflicts settled by a person ---------------------------------------------------------


@transaction.atomic
def conflict_resolve(
    *,
    conflict: Conflict,
    user: User | AnonymousUser,
    resolution: str,
    value: Any = None,
) -> Conflict:
    """An Admin settles an open conflict: keep the local value (pushed to Zoho), take Zoho's,
    or enter a value (validated as Zoho would, then pushed). Audited: who, when, what.

    Amount and currency are one value: a conflict on either decides both halves, from one
    side (an entered amount keeps the local currency, and the other way round), and settles
    an open conflict on the other half with it."""
    if not is_admin(user):
        raise PermissionDenied("Only Admins resolve conflicts.")
    locked = Conflict.objects.select_for_update().get(pk=conflict.pk)
    if locked.status != ConflictStatus.OPEN:
        raise ValidationError("This conflict was already resolved.")
    deal = Opportunity.objects.select_for_update().get(pk=locked.opportunity_id)
    name = locked.field
    partners = list(
        Conflict.objects.open()
        .select_for_update()
        .filter(opportunity_id=deal.pk, field__in=with_money_pair([name]) - {name})
    )
    label = dict(ConflictResolution.choices).get(resolution, resolution)
    fields = ", ".join(FIELDS_BY_NAME[c.field].label for c in [locked, *partners])
    reason = f"Conflict on {fields} resolved: {label}"
    base = deal.zoho_values or {}
    # The fields decided: the conflict's, and the other half of the money pair, conflict or
    # not (Zoho's amount never goes with a currency chosen here, nor the other way round).
    names = with_money_pair([name])
    if resolution == ConflictResolution.TOOK_ZOHO:
        # Zoho's newest values: the deal's last values seen from Zoho, which every pull keeps
        # current (the conflict shows the same values). Zoho has them already: nothing to push.
        chosen: dict[str, Any] = {
            field: python_value(field, base.get(field, locked.zoho_value)) for field in names
        }
        to_push = False
    elif resolution == ConflictResolution.KEPT_LOCAL:
        chosen, to_push = {field: getattr(deal, field) for field in names}, True
    elif resolution == ConflictResolution.ENTERED:
        chosen = {field: getattr(deal, field) for field in names}
        chosen[name] = deal_edit_validate({name: value})[name]
        to_push = True
    else:
        raise ValidationError({"resolution": f"Unknown resolution {resolution!r}."})
    deal_local_values_store(deal=deal, values=chosen, user=user, to_push=to_push, reason=reason)
    now = timezone.now()
    for item in (locked, *partners):
        item.status = ConflictStatus.RESOLVED
        item.resolution = resolution if item is locked else _partner_resolution(resolution)
        item.resolved_value = json_value(chosen[item.field])
        item.resolved_by, item.resolved_at = acting_user(user), now
        item._history_user = acting_user(user)  # type: ignore[attr-defined]  # simple-history
        item.save()
    return locked


def _partner_resolution(resolution: str) -> str:
    """How the other half of the money pair was settled: Zoho's with Zoho's, the local one
    with a local or entered value."""
    if resolution == ConflictResolution.TOOK_ZOHO:
        return ConflictResolution.TOOK_ZOHO
    return ConflictResolution.KEPT_LOCAL
