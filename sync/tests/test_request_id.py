"""A request's id follows the work: into the task it queues, the task's log lines, the sync run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from opportunities.roles import Role
from opportunities.tests.factories import UserFactory
from pipeline_pulse.celery import app as celery_app
from pipeline_pulse.storage.database_url import database_url
from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger
from sync.services import zoho_sync
from sync.tests.fakes import FakeDealSource, deal_record

WORKER_START_AND_RUN_SECONDS = 90


@pytest.fixture
def fake_zoho(monkeypatch: pytest.MonkeyPatch) -> FakeDealSource:
    source = FakeDealSource([deal_record(n) for n in range(3)])
    monkeypatch.setattr("sync.zoho.ZohoClient.from_settings", classmethod(lambda cls: source))
    return source


@pytest.mark.django_db
def test_a_sync_queued_by_a_request_stores_its_request_id(
    admin_client_: Client, fake_zoho: FakeDealSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)  # run the queued task here
    response = admin_client_.post(
        reverse("admin:sync_syncrun_sync_now"), {"kind": "full"}, HTTP_X_REQUEST_ID="req-sync-42"
    )
    assert response["X-Request-ID"] == "req-sync-42"
    run = SyncRun.objects.get()
    assert (run.status, run.request_id) == (SyncStatus.SUCCEEDED, "req-sync-42")

    # An operator finds the run by the id from a log line, and sees it on the run's page.
    found = admin_client_.get(reverse("admin:sync_syncrun_changelist"), {"q": "req-sync-42"})
    assert list(found.context["cl"].result_list) == [run]
    page = admin_client_.get(reverse("admin:sync_syncrun_change", args=[run.pk]))
    assert b"req-sync-42" in page.content


@pytest.mark.django_db
def test_a_run_no_request_started_has_no_request_id(fake_zoho: FakeDealSource) -> None:
    run = zoho_sync(kind=SyncKind.FULL, trigger=SyncTrigger.SCHEDULE)
    assert run.request_id is None


def _process_env() -> dict[str, str]:
    """A worker or command of this checkout, on the test database, logging JSON, no Zoho."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ZOHO_", "SENTRY_", "OTEL_", "PROMETHEUS_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="pipeline_pulse.settings",
        DATABASE_URL=database_url(connection),
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    )
    return env


def _json_lines(text: str) -> list[dict[str, Any]]:
    """Every line the process wrote; each must be one JSON object."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="a separate worker process needs Redis as its broker (CI has it)",
)


@needs_redis
@pytest.mark.django_db(transaction=True)  # the worker must see the committed login
def test_a_real_worker_logs_the_queued_task_under_the_request_id(
    client: Client, tmp_path: Path
) -> None:
    celery_app.control.purge()  # nothing queued by earlier tests runs in this worker
    admin = UserFactory.create(role=Role.ADMIN, is_staff=True)
    client.force_login(admin)
    response = client.post(
        reverse("admin:sync_syncrun_sync_now"), {"kind": "full"}, HTTP_X_REQUEST_ID="req-worker-7"
    )
    assert response.status_code == 302

    log = tmp_path / "worker.log"
    with log.open("w") as worker_output:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "pipeline_pulse",
                "--quiet",  # no start-up banner: it is printed, not logged
                "worker",
                "--pool=solo",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
            env=_process_env(),
            cwd=settings.BASE_DIR,
            stdout=worker_output,
            stderr=subprocess.STDOUT,
        )
        try:
            run = _wait_for_finished_run(request_id="req-worker-7")
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            celery_app.control.purge()

    # Without Zoho credentials the run fails at once, and says why.
    assert run.status == SyncStatus.FAILED
    assert "ZOHO_CLIENT_ID" in run.error
    output = log.read_text()
    # Everything logged is JSON; the one other line is printed by Celery as it stops.
    printed = [line for line in output.splitlines() if line.strip() and line[0] != "{"]
    assert printed == ["worker: Warm shutdown (MainProcess)"]
    lines = _json_lines("\n".join(line for line in output.splitlines() if line.startswith("{")))
    tagged = [line for line in lines if line.get("request_id") == "req-worker-7"]
    events = [line["event"] for line in tagged]
    assert events.count("task_started") == 1
    assert any(event.startswith(f"Sync run {run.pk} failed: ") for event in events)
    # The next task's lines are not the request's: the worker dropped its context.
    assert not any("zoho_sync_on_startup" in event for event in events)
    started = next(line for line in tagged if line["event"] == "task_started")
    assert started["task"] == "sync.tasks.zoho_sync_full"
    assert started["user_id"] == admin.pk


def _wait_for_finished_run(*, request_id: str) -> SyncRun:
    deadline = time.monotonic() + WORKER_START_AND_RUN_SECONDS
    while time.monotonic() < deadline:
        run = SyncRun.objects.filter(request_id=request_id).exclude(status="running").first()
        if run is not None:
            return run
        time.sleep(0.2)
    pytest.fail(f"no finished sync run with request id {request_id} within the time allowed")


@needs_redis
@pytest.mark.django_db(transaction=True)  # the command's process writes the run
def test_a_management_command_logs_json_lines_too() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "zoho_sync"],
        env=_process_env(),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1  # no Zoho credentials: the run fails and says why
    # Its last line is the command's own error message, printed rather than logged.
    *logged, error = result.stderr.splitlines()
    assert error.startswith("CommandError: Sync failed: Zoho CRM is not configured")
    (line,) = [
        line for line in _json_lines("\n".join(logged)) if line["logger"] == "sync.services.runs"
    ]
    assert line["level"] == "warning"
    assert line["event"].startswith("Zoho sync ")
    assert "ZOHO_CLIENT_ID" in line["event"]
    assert line["timestamp"].endswith("Z")
