"""A sync killed with `kill -9` mid-run never blocks the next one: the database releases the
run's lock with the dead process's session, and the next run completes and matches Zoho."""

from __future__ import annotations

import os
import signal
import subprocess  # nosec B404 - the test runs manage.py itself
import sys
import time
from decimal import Decimal

import pytest
from django.db import connection
from pytest_django import Settings

from opportunities.models import Opportunity
from pipeline_pulse.storage.database_url import database_url
from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger
from sync.services import zoho_sync
from sync.tests.locks import sync_lock_held_elsewhere
from sync.tests.zoho_helpers import serve_zoho

pytestmark = [
    pytest.mark.django_db(transaction=True),
]


def _wait_for(condition: object, *, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting")
        time.sleep(0.05)


def test_a_killed_sync_is_abandoned_at_once_and_the_rerun_matches_zoho(
    settings: Settings,
) -> None:
    with serve_zoho(deals=3000, clock=None) as zoho:
        zoho.simulator.faults.latency_seconds = 0.25  # about 4 s for the 15 pages
        env = {
            **os.environ,
            **zoho.simulator.environment(zoho.server.url),
            # The test database, which the child reaches with the test's credentials.
            "DATABASE_URL": database_url(connection),
        }
        child = subprocess.Popen(  # nosec B603
            [sys.executable, "manage.py", "zoho_sync", "--full"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(lambda: SyncRun.objects.filter(status="running", pages__gte=1).exists())
            child.send_signal(signal.SIGKILL)
        finally:
            child.wait(timeout=30)
        orphan = SyncRun.objects.get()
        assert orphan.status == SyncStatus.RUNNING  # the dead process could not say otherwise
        assert 0 < Opportunity.objects.count() < 3000
        # PostgreSQL ends the dead process's session, and its lock with it.
        _wait_for(lambda: not sync_lock_held_elsewhere(), seconds=10)

        zoho.simulator.faults.latency_seconds = 0
        for name, value in zoho.simulator.environment(zoho.server.url).items():
            setattr(settings, name, value)
        rerun = zoho_sync(kind=SyncKind.FULL, trigger=SyncTrigger.COMMAND)

        assert rerun.status == SyncStatus.SUCCEEDED, rerun.error
        orphan.refresh_from_db()
        assert orphan.status == SyncStatus.FAILED
        assert orphan.error.startswith("Abandoned")
        in_zoho = {
            deal["id"]: (deal["Stage"], Decimal(str(deal["Amount"])) if deal["Amount"] else None)
            for deal in zoho.simulator.deals()
        }
        stored = {
            zoho_id: (stage, amount)
            for zoho_id, stage, amount in Opportunity.objects.live().values_list(
                "zoho_id", "stage", "amount"
            )
        }
        assert stored == in_zoho
