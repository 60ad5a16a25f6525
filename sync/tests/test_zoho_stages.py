"""The org's stage metadata: each stage's forecast type, or a clear refusal without the scope."""

from __future__ import annotations

import pytest

from opportunities.records import CrmStageRecord
from simulator.dataset import STAGES
from sync.tests.zoho_helpers import serve_zoho
from sync.zoho import ZohoAuthError
from sync.zoho.field_map import FieldMap
from sync.zoho.parsing import parse_stage_metadata


def test_the_stage_picklist_comes_with_forecast_types() -> None:
    with serve_zoho(deals=1) as zoho:
        stages = zoho.client().stage_metadata()
    assert len(stages) == len(STAGES)
    by_name = {stage.name: stage for stage in stages}
    assert by_name["Closed Won"] == CrmStageRecord("Closed Won", "closed_won", 100, "Closed", 9)
    assert by_name["Closed Lost to Competition"].forecast_type == "closed_lost"
    assert by_name["Closed Lost to Competition"].forecast_category == "Omitted"
    # Zoho's own open categories, and the org's custom one, as Zoho names them.
    assert by_name["Proposal submitted (60)"] == CrmStageRecord(
        "Proposal submitted (60)", "open", 60, "Best Case", 7
    )
    assert by_name["Negotiation/Review"].forecast_category == "Committed"
    assert by_name["Qualification"].forecast_category == "Pipeline"
    assert by_name["Commercial negotiation (80)"].forecast_category == "Upside"
    assert [stage.sequence_number for stage in stages] == list(range(1, len(STAGES) + 1))


def test_an_org_that_withholds_the_settings_scope_refuses_clearly() -> None:
    with serve_zoho(deals=1) as zoho:
        zoho.simulator.settings_scope_granted = False
        with pytest.raises(ZohoAuthError, match="OAUTH_SCOPE_MISMATCH"):
            zoho.client().stage_metadata()


def test_the_stage_field_follows_the_field_map() -> None:
    body = {
        "fields": [
            {
                "api_name": "Sales_Stage",
                "pick_list_values": [
                    {"actual_value": "Won it", "forecast_type": "Closed Won", "probability": 100},
                    {"actual_value": "Odd", "forecast_type": "Maybe", "probability": 50},
                    {"actual_value": "", "forecast_type": "Open"},
                    "not a value",
                ],
            },
        ]
    }
    assert parse_stage_metadata(body, stage_api_name="Sales_Stage") == [
        CrmStageRecord("Won it", "closed_won", 100)
    ]
    with pytest.raises(ValueError, match="no Stage picklist"):
        parse_stage_metadata(body, stage_api_name=FieldMap().api_name("stage"))
    with pytest.raises(ValueError, match="no `fields` list"):
        parse_stage_metadata({"data": []}, stage_api_name="Stage")
