"""Beat's check of the alert conditions (every ALERTS_CHECK_MINUTES): a thin task."""

from __future__ import annotations

from celery import shared_task

from alerts.services import alerts_check


@shared_task
def alerts_check_task() -> list[str]:
    return [f"{outcome.kind}: {outcome.action}" for outcome in alerts_check()]
