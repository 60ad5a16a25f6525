"""The Deals field metadata of the simulated org (`GET /crm/v8/settings/fields?module=Deals`).

Only what Pipeline Pulse reads is served: the Stage picklist, each value with its probability,
forecast type (Open, Closed Won, Closed Lost), forecast category (Pipeline, Best Case, Committed,
Closed, Omitted, or the org's own) and sequence number, in the shape of Zoho's
`pick_list_values`.
Reading settings needs the settings scope; an org that did not grant it answers
401 OAUTH_SCOPE_MISMATCH, which `scope_granted=False` reproduces.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.dataset import STAGES, Stage
from simulator.http import Request, Response
from simulator.zoho_params import zoho_error

FORECAST_TYPES = {"won": "Closed Won", "lost": "Closed Lost"}
# Zoho's forecast categories: its five defaults, and one the simulated org added itself.
CATEGORY_IDS = {
    "Pipeline": "4876876000000006711",
    "Best Case": "4876876000000006712",
    "Committed": "4876876000000006714",
    "Closed": "4876876000000006713",
    "Omitted": "4876876000000006715",
    "Upside": "4876876000000006717",
}
CLOSED_CATEGORIES = {"Closed Won": "Closed", "Closed Lost": "Omitted"}
# Open stages as Zoho's default pipeline classes them (the late stages Best Case and
# Committed), plus the org's own: one in a custom category, one Zoho leaves as Pipeline.
OPEN_CATEGORIES = {
    "Proposal/Price Quote": "Best Case",
    "Negotiation/Review": "Committed",
    "Proposal submitted (60)": "Best Case",
    "Commercial negotiation (80)": "Upside",
}


def stage_picklist(stages: Iterable[Stage]) -> list[dict[str, Any]]:
    values = []
    for number, stage in enumerate(stages, start=1):
        forecast = FORECAST_TYPES.get(stage.kind, "Open")
        category = CLOSED_CATEGORIES.get(forecast) or OPEN_CATEGORIES.get(stage.name, "Pipeline")
        category_id = CATEGORY_IDS[category]
        values.append(
            {
                "display_value": stage.name,
                "actual_value": stage.name,
                "id": f"48768760000000{number:05d}",
                "sequence_number": number,
                "type": "used",
                "colour_code": None,
                "probability": stage.probability,
                "forecast_type": forecast,
                "forecast_category": {"name": category, "id": category_id},
            }
        )
    return values


def deals_fields(stages: Iterable[Stage] = STAGES) -> dict[str, Any]:
    """The answer's body: the Stage field (other fields are not needed by the client)."""
    return {
        "fields": [
            {
                "api_name": "Stage",
                "field_label": "Stage",
                "display_label": "Stage",
                "data_type": "picklist",
                "id": "4876876000000002565",
                "system_mandatory": True,
                "pick_list_values": stage_picklist(stages),
            }
        ]
    }


def settings_request_error(request: Request, *, scope_granted: bool) -> Response | None:
    """Zoho's refusals for this endpoint, or None when the request may be served."""
    if not scope_granted:
        return zoho_error(401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL")
    if request.arg("module") != "Deals":
        return zoho_error(
            400,
            "INVALID_MODULE",
            "The module name given seems to be invalid",
            {"resource_path_index": 0},
        )
    return None
