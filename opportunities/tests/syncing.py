"""Send deals through the real CRM page service, as a sync does, so tests can state only the
CRM values they depend on.

No write path of its own: a test's deal becomes a DealRecord (its current values, changed as
the test says) and goes through opportunities.services.crm.crm_page_apply.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from currency.conversion import sgd_converter
from opportunities.deal_fields import VALUE_FIELDS
from opportunities.merge import python_value
from opportunities.models import Opportunity
from opportunities.records import AccountRecord, CrmUserRecord, DealRecord
from opportunities.services.crm import CrmPageResult, crm_page_apply
from opportunities.stage_rules import StageRules
from opportunities.tests.factories import AccountFactory, CrmUserFactory, OpportunityFactory


def deal_record(deal: Opportunity, **changes: Any) -> DealRecord:
    """The deal as the CRM would send it (the values last seen from it, not local edits),
    with `changes` applied, modified "just now"."""
    account, owner = deal.account, deal.owner
    seen = deal.zoho_values or {}
    values = {
        name: python_value(name, seen[name]) if name in seen else getattr(deal, name)
        for name in VALUE_FIELDS
    }
    values["zoho_modified_time"] = values["zoho_modified_time"] or timezone.now()
    record = DealRecord(
        zoho_id=deal.zoho_id,
        account=AccountRecord(account.zoho_id, account.name) if account else None,
        owner=CrmUserRecord(owner.zoho_id, owner.name, owner.email) if owner else None,
        **values,
    )
    # Every sync brings a newer modification time, as Zoho's would be.
    changes.setdefault("zoho_modified_time", record.zoho_modified_time + timedelta(seconds=1))
    return replace(record, **changes)


def sync_page(
    updates: dict[Opportunity, dict[str, Any]], *, synced_at: datetime | None = None
) -> CrmPageResult:
    """One page: each deal with its changes, stored through the real service."""
    current = Opportunity.objects.select_related("account", "owner").in_bulk(
        [d.pk for d in updates]
    )
    records = [deal_record(current[deal.pk], **values) for deal, values in updates.items()]
    return crm_page_apply(
        deals=records, converter=sgd_converter(), rules=StageRules.load(), now=synced_at
    )


def sync_new(*, synced_at: datetime | None = None, **fields: Any) -> Opportunity:
    """A deal the CRM sends for the first time (an SGD deal of 10,000 unless told otherwise).

    Only CRM values can be given: what Pipeline Pulse computes (SGD amount, phase, health) is
    computed, as in production.
    """
    computed = sorted(set(fields) - {*VALUE_FIELDS, "account", "owner", "zoho_id"})
    if computed:
        raise TypeError(f"sync_new() takes CRM values only, not {', '.join(computed)}")
    fields.setdefault("account", AccountFactory.create())
    fields.setdefault("owner", CrmUserFactory.create())
    fields.setdefault("zoho_modified_time", timezone.now())
    deal = OpportunityFactory.build(**fields)
    crm_page_apply(
        deals=[deal_record(deal, zoho_modified_time=deal.zoho_modified_time)],
        converter=sgd_converter(),
        rules=StageRules.load(),
        now=synced_at,
    )
    return Opportunity.objects.get(zoho_id=deal.zoho_id)
