"""Every write to the opportunities app's tables, one module per sub-domain.

- crm: a page of CRM deals stored with their history and health; soft deletes.
- history: what a change to a deal means (transitions, change events, counters).
- fx: SGD amounts following rate changes.
- health: rescoring deals; new thresholds.
- lifecycle: stage mappings and re-placing deals.
- snapshots: the daily pipeline totals.
- logins: logins and the role groups' permissions.

Import from the sub-module, e.g. `from opportunities.services.crm import crm_page_apply`;
the names below are the ones views, admin and commands use most.
"""

from opportunities.services.health import (
    HealthRecomputeResult,
    health_recompute,
    health_thresholds_save,
)
from opportunities.services.lifecycle import (
    RederiveResult,
    opportunities_rederive,
    stage_mapping_delete,
    stage_mapping_save,
)
from opportunities.services.logins import (
    SignInRefused,
    login_for_zoho_identity,
    login_upsert,
    sign_up_domain_save,
)

__all__ = [
    "HealthRecomputeResult",
    "RederiveResult",
    "SignInRefused",
    "health_recompute",
    "health_thresholds_save",
    "login_for_zoho_identity",
    "login_upsert",
    "opportunities_rederive",
    "sign_up_domain_save",
    "stage_mapping_delete",
    "stage_mapping_save",
]
