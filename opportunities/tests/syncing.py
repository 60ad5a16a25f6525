"""Write deals the way the Zoho sync does, so tests can drive the post-sync step."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from opportunities.changes import CrmChange
from opportunities.models import Opportunity
from opportunities.services import opportunities_after_sync
from opportunities.stage_rules import StageRules
from opportunities.tests.factories import AccountFactory, CrmUserFactory, OpportunityFactory

# Fields the sync writes from Zoho (besides phase and outcome, which it derives).
ZOHO_FIELDS = (
    "stage",
    "probability",
    "amount",
    "amount_sgd",
    "closing_date",
    "zoho_modified_time",
    "proposal_submitted_on",
    "po_received_on",
    "kickoff_on",
    "invoiced_on",
    "payment_received_on",
    "revenue_recognised_on",
    "is_deleted",
    "deleted_at",
)


def sync_page(
    updates: dict[Opportunity, dict[str, Any]], *, synced_at: datetime | None = None
) -> list[CrmChange]:
    """Bulk-update the deals' Zoho fields with phase and outcome, then run the post-sync step."""
    rules = StageRules.load()
    before = {deal.pk: deal for deal in Opportunity.objects.filter(pk__in=[d.pk for d in updates])}
    changed, changes = [], []
    for deal, values in updates.items():
        old = before[deal.pk]
        new = Opportunity.objects.get(pk=deal.pk)
        for name, value in values.items():
            setattr(new, name, value)
        placement = rules.place(
            stage=new.stage,
            probability=new.probability,
            proposal_submitted_on=new.proposal_submitted_on,
            po_received_on=new.po_received_on,
            current_phase=old.phase,
        )
        new.phase, new.outcome = placement.phase, placement.outcome
        changed.append(new)
        changes.append(
            CrmChange(
                opportunity_id=deal.pk,
                created=False,
                previous_closing_date=old.closing_date,
                previous_amount_sgd=old.amount_sgd,
                previous_phase=old.phase,
                previous_outcome=old.outcome,
            )
        )
    Opportunity.objects.bulk_update(changed, [*ZOHO_FIELDS, "phase", "outcome"])
    opportunities_after_sync(changes=changes, synced_at=synced_at)
    return changes


def sync_new(*, synced_at: datetime | None = None, **fields: Any) -> Opportunity:
    """Create a deal as the sync does (placed by the stage rules) and run the post-sync step."""
    rules = StageRules.load()
    # The factory's SGD deal of 10,000, converted as the sync would.
    fields.setdefault("amount_sgd", fields.get("amount", Decimal("10000.00")))
    fields.setdefault("account", AccountFactory.create())
    fields.setdefault("owner", CrmUserFactory.create())
    deal = OpportunityFactory.build(**fields)
    placement = rules.place(
        stage=deal.stage,
        probability=deal.probability,
        proposal_submitted_on=deal.proposal_submitted_on,
        po_received_on=deal.po_received_on,
    )
    deal.phase, deal.outcome = placement.phase, placement.outcome
    deal.zoho_modified_time = deal.zoho_modified_time or timezone.now()
    (created,) = Opportunity.objects.bulk_create([deal])
    opportunities_after_sync(
        changes=[CrmChange(opportunity_id=created.pk, created=True)], synced_at=synced_at
    )
    return Opportunity.objects.get(pk=created.pk)
