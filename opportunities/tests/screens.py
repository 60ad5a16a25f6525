"""Deals for the screens' tests: stated outright, since the factory leaves computed fields."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from opportunities.models import HealthStatus, Opportunity, Outcome
from opportunities.tests.factories import CrmUserFactory, OpportunityFactory


def deal(
    *,
    sgd: str | None = "1000.00",
    outcome: str = Outcome.OPEN,
    health: str = HealthStatus.SUCCESS,
    closing: date | None = None,
    **fields: Any,
) -> Opportunity:
    """One deal with its SGD amount, outcome and health set as a sync would have set them."""
    fields.setdefault("amount", Decimal(sgd) if sgd is not None else Decimal("500.00"))
    fields.setdefault("currency", "SGD" if sgd is not None else "XAF")
    if sgd is None:
        fields.setdefault("fx_note", "No exchange rate for XAF")
    return OpportunityFactory.create(
        amount_sgd=Decimal(sgd) if sgd is not None else None,
        outcome=outcome,
        health_status=health,
        closing_date=closing or timezone.localdate() + timedelta(days=30),
        **fields,
    )


def mixed_pipeline(owner_email: str | None = None) -> list[Opportunity]:
    """A little of everything the dashboard sums: open, won this quarter, lost, danger, FX gaps."""
    owner = CrmUserFactory.create(email=owner_email) if owner_email else None
    extra: dict[str, Any] = {"owner": owner} if owner else {}
    today = timezone.localdate()
    return [
        deal(
            sgd="100000.00",
            probability=50,
            territory="Singapore",
            service_line="Cloud",
            phase=1,
            **extra,
        ),
        deal(
            sgd="250000.50",
            probability=80,
            territory="Singapore",
            service_line="Data",
            phase=3,
            health=HealthStatus.WARNING,
            **extra,
        ),
        deal(
            sgd="40000.25",
            probability=20,
            territory="Malaysia",
            service_line="Cloud",
            phase=2,
            health=HealthStatus.DANGER,
            **extra,
        ),
        deal(
            sgd=None,
            probability=30,
            territory="India",
            service_line="Data",
            phase=2,
            health=HealthStatus.NEUTRAL,
            **extra,
        ),
        deal(
            sgd="75000.00",
            outcome=Outcome.WON,
            phase=4,
            closing=today,
            territory="Malaysia",
            service_line="Cloud",
            probability=100,
            **extra,
        ),
        deal(
            sgd="12000.00",
            outcome=Outcome.WON,
            phase=4,
            closing=today - timedelta(days=400),
            health=HealthStatus.DANGER,
            territory="India",
            service_line="Data",
            probability=100,
            **extra,
        ),
        deal(
            sgd="9000.00",
            outcome=Outcome.LOST,
            phase=3,
            health=HealthStatus.NEUTRAL,
            territory="Singapore",
            service_line="Cloud",
            probability=0,
            **extra,
        ),
    ]
