"""The Deals field metadata of the simulated org (`GET /crm/v8/settings/fields?module=Deals`).

Only what Pipeline Pulse reads is served: the Stage picklist, each value with its probability
and forecast type (Open, Closed Won, Closed Lost), in the shape of Zoho's `pick_list_values`.
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
FORECAST_CATEGORIES = {
    "Open": ("Pipeline", "4876876000000006711"),
    "Closed Won": ("Closed", "4876876000000006713"),
    "Closed Lost": ("Omitted", "4876876000000006715"),
}


def stage_picklist(stages: Iterable[Stage]) -> list[dict[str, Any]]:
    values = []
    for number, stage in enumerate(stages, start=1):
        forecast = FORECAST_TYPES.get(stage.kind, "Open")
        category, category_id = FORECAST_CATEGORIES[forecast]
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
