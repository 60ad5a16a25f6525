"""Local edits on their way to the CRM: what to push, what the CRM answered, and conflicts
settled by a person.

The sync app does the talking to Zoho (sync.push); every write to deals and conflicts about it
happens here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from opportunities.access import is_admin
from opportunities.deal_fields import FIELDS_BY_NAME
from opportunities.merge import json_value, python_value
from opportunities.models import Conflict, ConflictResolution, ConflictStatus, Opportunity
from opportunities.services.edits import deal_edit_validate, deal_local_values_store
from pipeline_pulse.models import acting_user

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


@dataclass(frozen=True, slots=True)
class PendingPush:
    """One deal's local edits, ready to send: field → value (Python), and the Modified_Time
    of the Zoho values they were made against (Zoho refuses the update if it changed since)."""

    opportunity_id: int
    zoho_id: str
    changes: Mapping[str, object]
    unmodified_since: datetime | None


def pending_pushes(*, limit: int | None = None) -> list[PendingPush]:
    """Deals with edits to push, oldest change first: fields in an open conflict wait for a
    person, and fields Zoho refused wait for another edit."""
    deals = (
        Opportunity.objects.live()
        .exclude(pending_fields=[])
        .order_by("updated_at", "pk")
        .only("id", "zoho_id", "pending_fields", "push_errors", "zoho_values", *FIELDS_BY_NAME)
    )
    blocked: dict[int, set[str]] = {}
    for deal_id, name in Conflict.objects.open().values_list("opportunity_id", "field"):
        blocked.setdefault(deal_id, set()).add(name)
    pushes = []
    for deal in deals[:limit] if limit else deals:
        held = blocked.get(deal.pk, set()) | set(deal.push_errors)
        names = [name for name in deal.pending_fields if name not in held]
        if not names:
            continue
        modified = (deal.zoho_values or {}).get("zoho_modified_time")
        pushes.append(
            PendingPush(
                opportunity_id=deal.pk,
                zoho_id=deal.zoho_id,
                changes={name: getattr(deal, name) for name in names},
                unmodified_since=datetime.fromisoformat(modified) if modified else None,
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
def push_refused(*, push: PendingPush, field: str | None, message: str) -> None:
    """Zoho refused the update (INVALID_DATA and the like): the field it names (or every
    field sent) keeps its local value, shows Zoho's message, and waits for another edit."""
    deal = Opportunity.objects.select_for_update().get(pk=push.opportunity_id)
    names = [field] if field in push.changes else list(push.changes)
    deal.push_errors = {**deal.push_errors, **dict.fromkeys(names, message[:300])}
    deal.skip_history_when_saving = True  # type: ignore[attr-defined]  # the run records it
    deal.save(update_fields=["push_errors", "updated_at"])


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
    or enter a value (validated as Zoho would, then pushed). Audited: who, when, what."""
    if not is_admin(user):
        raise PermissionDenied("Only Admins resolve conflicts.")
    locked = Conflict.objects.select_for_update().get(pk=conflict.pk)
    if locked.status != ConflictStatus.OPEN:
        raise ValidationError("This conflict was already resolved.")
    deal = Opportunity.objects.select_for_update().get(pk=locked.opportunity_id)
    name = locked.field
    label = dict(ConflictResolution.choices).get(resolution, resolution)
    reason = f"Conflict on {FIELDS_BY_NAME[name].label} resolved: {label}"
    if resolution == ConflictResolution.TOOK_ZOHO:
        # Zoho's newest value: the deal's last values seen from Zoho, which every pull keeps
        # current (the conflict shows the same value). Zoho has it already: nothing to push.
        chosen: Any = python_value(name, (deal.zoho_values or {}).get(name, locked.zoho_value))
        to_push = False
    elif resolution == ConflictResolution.KEPT_LOCAL:
        chosen, to_push = getattr(deal, name), True
    elif resolution == ConflictResolution.ENTERED:
        chosen, to_push = deal_edit_validate({name: value})[name], True
    else:
        raise ValidationError({"resolution": f"Unknown resolution {resolution!r}."})
    deal_local_values_store(
        deal=deal, values={name: chosen}, user=user, to_push=to_push, reason=reason
    )
    locked.status, locked.resolution = ConflictStatus.RESOLVED, resolution
    locked.resolved_value = json_value(chosen)
    locked.resolved_by, locked.resolved_at = acting_user(user), timezone.now()
    locked._history_user = acting_user(user)  # type: ignore[attr-defined]  # simple-history
    locked.save()
    return locked
