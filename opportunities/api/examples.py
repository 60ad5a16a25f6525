"""Example bodies for the OpenAPI documentation of the deal and stage-mapping endpoints."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample

DEAL: dict[str, Any] = {
    "id": 42,
    "zoho_id": "5725767000000012345",
    "name": "Data platform renewal",
    "account": {"id": 7, "zoho_id": "3652397000000004711", "name": "Acme Pte Ltd"},
    "owner": {"id": 3, "zoho_id": "4876876000000000003", "name": "Mei Lim", "email": "mei@x.sg"},
    "stage": "Negotiation/Review",
    "probability": 75,
    "amount": "120000.00",
    "currency": "USD",
    "amount_sgd": "161400.00",
    "closing_date": "2026-12-15",
    "phase": 3,
    "phase_label": "Proposal",
    "outcome": "open",
    "health_status": "warning",
    "requires_attention": False,
    "is_strategic": False,
    "territory": "SEA",
    "service_line": "Cloud",
    "pending_fields": [],
    "updated_at": "2026-11-20T09:30:00+08:00",
}
DEAL_DETAIL: dict[str, Any] = {
    **DEAL,
    "zoho_exchange_rate": "1.345000000",
    "zoho_created_time": "2026-03-02T10:15:00+08:00",
    "zoho_modified_time": "2026-11-20T09:29:41+08:00",
    "deal_type": "Existing Business",
    "lead_source": "Partner",
    "funding_type": "Capex",
    "market_segment": "Enterprise",
    "proposal_submitted_on": "2026-10-01",
    "po_received_on": None,
    "kickoff_on": None,
    "invoiced_on": None,
    "payment_received_on": None,
    "revenue_recognised_on": None,
    "fx_rate": "1.345000000000",
    "fx_rate_as_of": "2026-11-20T06:00:00+08:00",
    "fx_rate_source": "api",
    "fx_note": "",
    "phase_entered_at": "2026-10-01T00:00:00+08:00",
    "days_in_phase": 55,
    "health_reasons": [
        {
            "code": "probability_without_po",
            "severity": "warning",
            "message": "Probability is 75% or more but no PO has been received",
        }
    ],
    "health_computed_at": "2026-11-25T00:05:12+08:00",
    "closing_date_push_count": 1,
    "closing_date_pull_in_count": 0,
    "created_at": "2026-03-02T10:20:00+08:00",
}
HEALTH_SUMMARY: dict[str, Any] = {
    "states": [
        {
            "health_status": "danger",
            "label": "Danger",
            "count": 6,
            "amount_sgd": "610000.00",
            "not_convertible_count": 0,
        },
        {
            "health_status": "warning",
            "label": "Warning",
            "count": 14,
            "amount_sgd": "1290000.00",
            "not_convertible_count": 1,
        },
        {
            "health_status": "success",
            "label": "Success",
            "count": 40,
            "amount_sgd": "2310000.00",
            "not_convertible_count": 0,
        },
        {
            "health_status": "neutral",
            "label": "Neutral",
            "count": 3,
            "amount_sgd": "0.00",
            "not_convertible_count": 0,
        },
    ],
    "total_count": 63,
    "total_sgd": "4210000.00",
}
CHANGE_EVENT: dict[str, Any] = {
    "id": 981,
    "opportunity": 42,
    "opportunity_name": "Data platform renewal",
    "kind": "closing_date_pushed",
    "kind_label": "Closing date pushed out",
    "old_value": "2026-11-30",
    "new_value": "2026-12-15",
    "delta": "15.00",
    "cause": "sync",
    "occurred_at": "2026-11-24T14:02:11+08:00",
}
STAGE_MAPPING: dict[str, Any] = {
    "id": 12,
    "stage": "Proposal submitted",
    "phase": 3,
    "phase_label": "Proposal",
    "outcome": "open",
    "created_at": "2026-11-02T10:00:00+08:00",
    "updated_at": "2026-11-02T10:00:00+08:00",
}


def response(name: str, value: Any, status: str = "200") -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True, status_codes=[status])
