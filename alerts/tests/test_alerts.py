"""Alerts to Admins: each condition is mailed once when it starts to hold, and again only
after it has cleared and returned."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from pytest_django import Settings

from alerts.models import AlertKind, AlertState
from alerts.services import admin_addresses, alerts_check
from currency.conversion import effective_rates_invalidate
from currency.tests.factories import ExchangeRateFactory
from opportunities.models import Conflict, ConflictResolution, ConflictStatus
from opportunities.roles import Role
from opportunities.tests.factories import OpportunityFactory, UserFactory
from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def world(settings: Settings) -> Iterator[time_machine.Traveller]:
    settings.FX_CURRENCIES = ["SGD", "USD"]
    settings.SITE_URL = "https://pulse.example.com"
    with time_machine.travel(NOW, tick=False) as traveller:
        for code, units in (("SGD", "1.35"), ("USD", "1")):
            ExchangeRateFactory.create(currency=code, units_per_usd=Decimal(units), as_of=NOW)
        UserFactory.create(role=Role.ADMIN, email="ada@example.com")
        UserFactory.create(role=Role.ADMIN, email="ben@example.com")
        UserFactory.create(role=Role.MANAGER, email="mia@example.com")
        UserFactory.create(role=Role.ADMIN, email="")
        yield traveller


def _run(status: str, kind: str = SyncKind.INCREMENTAL, error: str = "") -> SyncRun:
    return SyncRun.objects.create(
        kind=kind,
        trigger=SyncTrigger.SCHEDULE,
        status=status,
        finished_at=timezone.now(),
        error=error,
    )


def _actions() -> dict[str, str]:
    return {outcome.kind: outcome.action for outcome in alerts_check()}


def test_alerts_go_to_every_admin_with_an_address() -> None:
    assert admin_addresses() == ["ada@example.com", "ben@example.com"]


def test_three_failed_syncs_in_a_row_alert_once_and_rearm_after_a_success(
    world: time_machine.Traveller,
) -> None:
    _run(SyncStatus.SUCCEEDED)
    _run(SyncStatus.FAILED, error="Zoho answered 500")
    _run(SyncStatus.FAILED, error="Zoho answered 500")
    _run(SyncStatus.SUCCEEDED, kind=SyncKind.PUSH)  # a push is not a pull
    assert _actions()[AlertKind.SYNC_FAILING] == "clear"
    world.shift(timedelta(minutes=15))
    _run(SyncStatus.FAILED, error="Zoho refused access (INVALID_TOKEN)")

    assert _actions()[AlertKind.SYNC_FAILING] == "sent"
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "ben@example.com"]
    message = mail.outbox[0]
    assert message.subject == "[Pipeline Pulse] Alert: The Zoho sync failed three times in a row"
    assert "INVALID_TOKEN" in message.body
    assert "https://pulse.example.com/sync/" in message.body
    html = message.alternatives[0][0]  # type: ignore[attr-defined]
    assert "INVALID_TOKEN" in str(html)
    assert "<img" not in str(html)

    # Every later check while it still fails: nothing more.
    _run(SyncStatus.FAILED)
    assert _actions()[AlertKind.SYNC_FAILING] == "still holds"
    assert len(mail.outbox) == 2

    _run(SyncStatus.SUCCEEDED)
    assert _actions()[AlertKind.SYNC_FAILING] == "cleared"
    state = AlertState.objects.get(kind=AlertKind.SYNC_FAILING)
    assert (state.active, state.cleared_at) == (False, timezone.now())
    for _ in range(3):
        _run(SyncStatus.FAILED)
    assert _actions()[AlertKind.SYNC_FAILING] == "sent"  # re-armed: told again
    assert len(mail.outbox) == 4


def test_expired_rates_alert_once_and_rearm_after_a_refresh(
    world: time_machine.Traveller,
) -> None:
    world.shift(timedelta(days=30))
    assert _actions()[AlertKind.RATES_EXPIRED] == "clear"  # exactly 30 days: not expired
    world.shift(timedelta(hours=1))
    assert _actions()[AlertKind.RATES_EXPIRED] == "sent"
    assert "SGD: rate of 15 Jun 2026, 10:00" in mail.outbox[0].body
    assert _actions()[AlertKind.RATES_EXPIRED] == "still holds"
    assert len(mail.outbox) == 2
    for code in ("SGD", "USD"):
        ExchangeRateFactory.create(currency=code, as_of=timezone.now())
    effective_rates_invalidate()  # as a refresh does when it stores rates
    assert _actions()[AlertKind.RATES_EXPIRED] == "cleared"
    assert len(mail.outbox) == 2


def test_a_conflict_waiting_more_than_three_days_alerts_once(
    world: time_machine.Traveller,
) -> None:
    deal = OpportunityFactory.create(name="Harbourfront fit-out")
    conflict = Conflict.objects.create(
        opportunity=deal, field="amount", strategy="manual", detected_at=timezone.now()
    )
    world.shift(timedelta(days=3))
    assert _actions()[AlertKind.CONFLICTS_WAITING] == "clear"
    world.shift(timedelta(minutes=1))
    assert _actions()[AlertKind.CONFLICTS_WAITING] == "sent"
    assert "Harbourfront fit-out: Amount" in mail.outbox[0].body
    assert _actions()[AlertKind.CONFLICTS_WAITING] == "still holds"
    conflict.status, conflict.resolution = ConflictStatus.RESOLVED, ConflictResolution.TOOK_ZOHO
    conflict.resolved_at = timezone.now()
    conflict.save()
    assert _actions()[AlertKind.CONFLICTS_WAITING] == "cleared"
    assert len(mail.outbox) == 2


def test_the_command_dry_run_sends_and_changes_nothing() -> None:
    for _ in range(3):
        _run(SyncStatus.FAILED, error="down")
    out = io.StringIO()
    call_command("send_alerts", "--dry-run", stdout=out)
    assert "The Zoho sync failed three times in a row: would send (2 Admins)" in out.getvalue()
    assert mail.outbox == []
    assert not AlertState.objects.filter(active=True).exists()
    out = io.StringIO()
    call_command("send_alerts", stdout=out)
    assert "The Zoho sync failed three times in a row: sent (2 Admins)" in out.getvalue()
    assert len(mail.outbox) == 2
