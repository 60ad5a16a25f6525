"""`manage.py demo` prepares a working product from the simulators, through the real clients."""

import io
import os
from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from currency.models import ExchangeRate
from opportunities.access import deals_visible_to
from opportunities.models import Opportunity, PipelineSnapshot
from opportunities.roles import Role, role_of
from simulator.apis import simulated_apis
from simulator.server import SimulatedApi
from sync.models import SyncKind, SyncRun, SyncStatus

NOW = datetime(2027, 3, 10, 11, 0, tzinfo=ZoneInfo("Asia/Singapore"))


@pytest.mark.django_db
def test_demo_syncs_from_the_simulators_and_prints_working_logins(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[dict[str, object]] = []

    def apis(**options: Any) -> list[SimulatedApi]:
        built.append(options)
        return simulated_apis(**options)

    monkeypatch.setattr("pipeline_pulse.management.commands.demo.simulated_apis", apis)
    # Without its past (test_demo_history builds the org with one).
    call_command(
        "demo", "--no-serve", "--deals", "60", "--history-days", "0", "--simulator-port", "0"
    )
    out = capsys.readouterr().out
    assert built == [{"deals": 60, "activity": True}]  # the org changes as the demo runs

    run = SyncRun.objects.get()
    assert (run.kind, run.status) == (SyncKind.FULL, SyncStatus.SUCCEEDED)
    assert Opportunity.objects.live().count() == run.created > 0
    assert Opportunity.objects.filter(amount_sgd__isnull=False).count() > run.created * 0.9
    assert ExchangeRate.objects.values("as_of").distinct().count() >= 13  # today + a year
    # The dashboard's trend has its 90 days, today's taken live.
    days = set(PipelineSnapshot.objects.values_list("day", flat=True))
    assert len(days) == 90
    assert "Pipeline snapshots: the last 90 days" in out
    users = get_user_model().objects.all()
    lines = {line.split()[3]: line for line in out.splitlines() if "log in as" in line}
    assert set(lines) == {"admin", "manager", "viewer", "rep"}
    password = lines["admin"].split(" / ")[1].split()[0]
    for user in users:
        assert user.check_password(password)
    rep = users.get(username="rep")
    assert role_of(rep) is Role.REP
    assert deals_visible_to(rep).exists()
    assert role_of(users.get(username="admin")) is Role.ADMIN

    # Nothing of the demo's simulator wiring outlives the command.
    assert "ZOHO_API_DOMAIN" not in os.environ
    assert settings.ZOHO_API_DOMAIN == "https://www.zohoapis.com"


@pytest.mark.django_db
def test_running_the_demo_again_syncs_incrementally(capsys: pytest.CaptureFixture[str]) -> None:
    options = ("--no-serve", "--deals", "30", "--history-days", "10", "--simulator-port", "0")
    with time_machine.travel(NOW, tick=False):
        call_command("demo", *options, stdout=io.StringIO())
        first = list(SyncRun.objects.order_by("started_at").values_list("kind", "status"))
        # Again: the simulated org replays its past alone; the product syncs once, now.
        call_command("demo", *options, "--no-activity", stdout=io.StringIO())
    runs = list(SyncRun.objects.order_by("started_at").values_list("kind", "status"))
    assert first[0] == (SyncKind.FULL, SyncStatus.SUCCEEDED)
    assert runs[: len(first)] == first
    assert runs[len(first) :] == [(SyncKind.INCREMENTAL, SyncStatus.SUCCEEDED)]
    assert set(runs[1:]) == {(SyncKind.INCREMENTAL, SyncStatus.SUCCEEDED)}


@pytest.mark.django_db
def test_the_default_demo_org_is_mostly_healthy_with_a_few_deals_in_danger() -> None:
    """The default org (2,000 deals, seed 7) as the demo shows it: pins the health bands so
    the demo cannot drift back to a pipeline that is mostly overdue."""
    # The org as generated (its replayed past is test_demo_history's: too slow at this size).
    call_command(
        "demo", "--no-serve", "--history-days", "0", "--simulator-port", "0", stdout=io.StringIO()
    )

    live = Opportunity.objects.live()
    open_deals = live.open()
    health = Counter(open_deals.values_list("health_status", flat=True))
    total = sum(health.values())
    assert total > 0.35 * live.count()
    assert 0.10 <= health["danger"] / total <= 0.20
    assert 0.12 <= health["warning"] / total <= 0.35
    assert health["success"] / total >= 0.5
    # Every deal converts, the handful in CHF, NZD and KRW too.
    assert not live.filter(amount_sgd__isnull=True).exists()
    assert set(live.values_list("currency", flat=True)) >= {"CHF", "NZD", "KRW"}
    won = live.filter(outcome="won")
    assert won.filter(payment_received_on__isnull=False).count() > 0.7 * won.count()
    assert won.filter(po_received_on__isnull=False, payment_received_on__isnull=True).exists()


class _Worker:
    """Stands in for the Celery worker the demo starts beside the web server."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.stopped = False

    def terminate(self) -> None:
        self.stopped = True

    def wait(self, timeout: float) -> int:
        return 0


def test_a_terminated_demo_stops_its_worker_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn shuts down on SIGTERM and raises it again with the handler it found: that
    handler must end the demo through its cleanup, not kill it with the worker left behind."""
    import signal

    import uvicorn

    from pipeline_pulse.management.commands.demo import Command

    workers: list[_Worker] = []

    def popen(*args: Any, **kwargs: Any) -> _Worker:
        workers.append(_Worker())
        return workers[-1]

    def uvicorn_run(*args: Any, **kwargs: Any) -> None:
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler), "SIGTERM at its default would kill the demo on the spot"
        handler(signal.SIGTERM, None)

    monkeypatch.setattr("pipeline_pulse.management.commands.demo.subprocess.Popen", popen)
    monkeypatch.setattr(uvicorn, "run", uvicorn_run)
    before = signal.getsignal(signal.SIGTERM)

    with pytest.raises(SystemExit) as stopped:
        Command(stdout=io.StringIO())._serve("127.0.0.1", 0)

    assert stopped.value.code == 128 + signal.SIGTERM
    assert workers[0].stopped
    assert signal.getsignal(signal.SIGTERM) == before


@pytest.mark.django_db
def test_the_served_demo_gets_zoho_callbacks_and_keeps_its_mail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While the demo serves, the worker it starts and the web app both know where Zoho's
    callbacks go, and mail goes to the console and the outbox; none of it outlives it."""
    from pipeline_pulse.management.commands.demo import Command

    seen: dict[str, object] = {}

    def serve(self: Command, host: str, port: int) -> None:
        seen["environ"] = {
            name: os.environ.get(name) for name in ("ZOHO_NOTIFY_URL", "EMAIL_OUTBOX", "EMAIL_URL")
        }
        seen["settings"] = (settings.ZOHO_NOTIFY_URL, settings.EMAIL_BACKEND)

    monkeypatch.setattr(Command, "_serve", serve)
    call_command(
        "demo", "--deals", "30", "--simulator-port", "0", "--port", "8123", stdout=io.StringIO()
    )
    assert seen["environ"] == {
        "ZOHO_NOTIFY_URL": "http://127.0.0.1:8123/zoho/notify/",
        "EMAIL_OUTBOX": "true",
        "EMAIL_URL": "consolemail://",
    }
    assert seen["settings"] == (
        "http://127.0.0.1:8123/zoho/notify/",
        "pipeline_pulse.mail_outbox.OutboxBackend",
    )
    assert "ZOHO_NOTIFY_URL" not in os.environ
    assert settings.ZOHO_NOTIFY_URL == ""
