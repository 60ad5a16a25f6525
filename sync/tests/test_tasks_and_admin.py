"""Scheduled and manual triggers: tasks, the startup sync, sync requests and the admin."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from opportunities.roles import Role
from opportunities.tests.factories import UserFactory
from pipeline_pulse.celery import app as celery_app
from sync import tasks
from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger
from sync.services import SyncAlreadyRunning, sync_run_start
from sync.tests.fakes import FakeDealSource, deal_record
from sync.triggers import SyncNotAllowed, sync_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_zoho(monkeypatch: pytest.MonkeyPatch) -> FakeDealSource:
    source = FakeDealSource([deal_record(n) for n in range(5)])
    monkeypatch.setattr("sync.zoho.ZohoClient.from_settings", classmethod(lambda cls: source))
    return source


def test_beat_runs_the_incremental_sync_on_the_configured_interval() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["zoho-sync-incremental"]
    assert entry["task"] == "sync.tasks.zoho_sync_incremental"
    assert entry["schedule"] == timedelta(minutes=settings.ZOHO_SYNC_INTERVAL_MINUTES)


def test_scheduled_task_runs_a_full_sync_first_then_incrementals(fake_zoho: FakeDealSource) -> None:
    first = SyncRun.objects.get(pk=tasks.zoho_sync_incremental.apply().get())
    second = SyncRun.objects.get(pk=tasks.zoho_sync_incremental.apply().get())
    assert (first.kind, second.kind) == (SyncKind.FULL, SyncKind.INCREMENTAL)
    assert first.trigger == SyncTrigger.SCHEDULE


def test_task_skips_quietly_while_a_run_is_in_progress(fake_zoho: FakeDealSource) -> None:
    sync_run_start(kind=SyncKind.FULL, trigger=SyncTrigger.SCHEDULE)
    assert tasks.zoho_sync_incremental.apply().get() is None


def test_startup_sync_runs_only_until_a_full_sync_succeeded(fake_zoho: FakeDealSource) -> None:
    run_id = tasks.zoho_sync_on_startup.apply().get()
    assert SyncRun.objects.get(pk=run_id).trigger == SyncTrigger.STARTUP
    assert tasks.zoho_sync_on_startup.apply().get() is None


def test_admin_sync_now_queues_a_run(
    admin_client_: Client, fake_zoho: FakeDealSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)  # run the queued task here
    response = admin_client_.post(reverse("admin:sync_syncrun_sync_now"), {"kind": "full"})
    assert response.status_code == 302
    run = SyncRun.objects.get()
    assert (run.kind, run.trigger, run.status) == (
        SyncKind.FULL,
        SyncTrigger.MANUAL,
        SyncStatus.SUCCEEDED,
    )
    assert run.triggered_by == admin_client_.user  # type: ignore[attr-defined]
    page = admin_client_.get(reverse("admin:sync_syncrun_change", args=[run.pk]))
    assert page.status_code == 200


def test_admin_sync_now_is_refused_while_running(admin_client_: Client) -> None:
    sync_run_start(kind=SyncKind.FULL, trigger=SyncTrigger.SCHEDULE)
    response = admin_client_.post(
        reverse("admin:sync_syncrun_sync_now"), {"kind": "full"}, follow=True
    )
    assert b"already running" in response.content
    assert SyncRun.objects.count() == 1


def test_viewer_cannot_start_a_sync(viewer_client: Client) -> None:
    response = viewer_client.post(reverse("admin:sync_syncrun_sync_now"))
    assert response.status_code == 302
    assert not SyncRun.objects.exists()


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_managers_and_admins_may_request_a_sync(
    role: Role, fake_zoho: FakeDealSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    user = UserFactory.create(role=role)
    message = sync_request(kind=SyncKind.FULL, user=user)
    assert message.startswith("A full sync was queued")
    run = SyncRun.objects.get()
    assert (run.kind, run.trigger, run.triggered_by) == (SyncKind.FULL, SyncTrigger.MANUAL, user)


@pytest.mark.parametrize("role", [Role.REP, Role.VIEWER, None])
def test_reps_viewers_and_unassigned_logins_may_not(role: Role | None) -> None:
    with pytest.raises(SyncNotAllowed):
        sync_request(kind=SyncKind.INCREMENTAL, user=UserFactory.create(role=role))
    assert not SyncRun.objects.exists()


def test_a_request_while_running_is_refused_and_a_bad_kind_is_an_error() -> None:
    manager = UserFactory.create(role=Role.MANAGER)
    with pytest.raises(ValueError, match="Unknown sync kind"):
        sync_request(kind="push-everything", user=manager)
    sync_run_start(kind=SyncKind.FULL, trigger=SyncTrigger.SCHEDULE)
    with pytest.raises(SyncAlreadyRunning):
        sync_request(kind=SyncKind.INCREMENTAL, user=manager)
