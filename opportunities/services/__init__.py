"""Writes about deals: logins, the post-sync step, health, thresholds and stage mappings.

One module per sub-domain; import from here, e.g.
`from opportunities.services import opportunities_after_sync`.
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
from opportunities.services.logins import login_upsert
from opportunities.services.sync import opportunities_after_sync

__all__ = [
    "HealthRecomputeResult",
    "RederiveResult",
    "health_recompute",
    "health_thresholds_save",
    "login_upsert",
    "opportunities_after_sync",
    "opportunities_rederive",
    "stage_mapping_delete",
    "stage_mapping_save",
]
