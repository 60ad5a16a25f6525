"""`manage.py demo`: the whole product on one machine, with data pulled from the simulators.

Serves the local Zoho CRM and CurrencyFreaks simulators, pulls rates and a full sync through
the real clients over HTTP, creates one login per role, then serves the web app beside a
Celery worker with embedded beat (which keeps syncing from the simulator every 15 minutes).
The simulated org's team edits a few deals every few minutes (unless --no-activity), and the
simulated Zoho calls back on Pipeline Pulse's notification endpoint the moment it does (the
worker subscribes when it starts): each edit shows on the board within seconds, and each
scheduled sync still checks nothing was missed.
"""

from __future__ import annotations

import os
import signal

# Starts our own worker with a fixed argument list.
import subprocess  # nosec B404
import sys
import threading
from datetime import date, timedelta
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from django.test.utils import override_settings
from django.utils import timezone

from currency.client import CurrencyFreaksError
from currency.services import fx_rates_backfill, fx_rates_refresh
from opportunities.models import CrmUser, SignUpDomain
from opportunities.roles import Role
from opportunities.services import health_recompute, login_upsert, sign_up_domain_save
from opportunities.services.snapshots import pipeline_snapshot_backfill
from pipeline_pulse.management.demo_history import (
    HISTORY_DAYS,
    HistoryPlan,
    HistoryUnavailable,
    history_plan,
    history_replay,
    org_stages_map,
)
from simulator.apis import simulated_apis, simulated_environment
from simulator.clock import SimulatorClock
from simulator.dataset import CURRENCIES as DATASET_CURRENCIES
from simulator.server import SimulatedApi, SimulatorServer
from simulator.zoho import ZohoSimulator
from simulator.zoho_history import history_start
from simulator.zoho_signin import DEMO_DOMAIN
from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger
from sync.services import zoho_sync

# Demo only (served on 127.0.0.1), and printed on the console on purpose.
DEMO_PASSWORD = "pulse-demo-2026"  # noqa: S105  # nosec B105
DEMO_LOGINS = (
    ("admin", "admin@pipeline-pulse.example", Role.ADMIN, "Demo Admin"),
    ("manager", "manager@pipeline-pulse.example", Role.MANAGER, "Demo Manager"),
    ("viewer", "viewer@pipeline-pulse.example", Role.VIEWER, "Demo Viewer"),
)
HISTORY_MONTHS = 12
# How often the simulated team's due rounds of edits are played while the demo serves, so
# Zoho's callbacks bring them at once rather than at the next listing.
ACTIVITY_TICK_SECONDS = 10.0
TREND_DAYS = 90  # as many days as the dashboard's trend shows


class Command(BaseCommand):
    help = (
        "Serve the Zoho and CurrencyFreaks simulators, pull rates and deals from them, create "
        "demo logins, then serve Pipeline Pulse with a background worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--simulator-port", type=int, default=8090, help="0 picks a free port.")
        parser.add_argument(
            "--deals", type=int, default=2000, help="Deals in the simulated org (about, today)."
        )
        parser.add_argument(
            "--history-days",
            type=int,
            default=HISTORY_DAYS,
            help="Days of the org's past replayed through daily syncs on a moved clock, the "
            "first time (0: none, the org is pulled as it stands today).",
        )
        parser.add_argument(
            "--no-activity",
            action="store_true",
            help="Keep the simulated org still: by default its team edits a few deals every "
            "few minutes, which the scheduled syncs pick up.",
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="Prepare everything, print the logins, exit."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        history_days = max(0, options["history_days"])
        plan = history_plan(deals=options["deals"], days=history_days) if history_days else None
        if plan is None:
            apis = simulated_apis(deals=options["deals"], activity=not options["no_activity"])
        else:
            # The org as it stood when its history starts: fewer deals, on a clock of then.
            start = history_start(timezone.now(), history_days)
            apis = simulated_apis(
                deals=plan.initial_deals,
                activity=not options["no_activity"],
                zoho_clock=SimulatorClock(start),
            )
        try:
            server = SimulatorServer(apis, port=options["simulator_port"]).start()
        except OSError:
            server = SimulatorServer(apis, port=0).start()
        environment = simulated_environment(apis, server.url)
        # The org prices a few deals in currencies outside the default list (CHF, NZD, KRW):
        # fetch those rates too, so every deal converts.
        fx_currencies = list(dict.fromkeys([*settings.FX_CURRENCIES, *DATASET_CURRENCIES]))
        variables = {**environment, "FX_CURRENCIES": ",".join(fx_currencies)}
        if not options["no_serve"]:
            # Zoho's notifications call back on the web app this command serves; the worker
            # subscribes when it starts (sync.tasks.zoho_watch_renew).
            host = options["host"] if options["host"] not in ("0.0.0.0", "::") else "127.0.0.1"  # noqa: S104  # nosec B104
            notify_url = f"http://{host}:{options['port']}/zoho/notify/"
            environment["ZOHO_NOTIFY_URL"] = variables["ZOHO_NOTIFY_URL"] = notify_url
        # Mail is printed on the console and kept in the outbox, which Admins read in the
        # admin under "Sent e-mails".
        variables |= {"EMAIL_URL": "consolemail://", "EMAIL_OUTBOX": "true"}
        mail_settings = {
            "EMAIL_OUTBOX": True,
            "EMAIL_OUTBOX_BACKEND": "django.core.mail.backends.console.EmailBackend",
            "EMAIL_BACKEND": "pipeline_pulse.mail_outbox.OutboxBackend",
        }
        # This process (the web app) and the worker it starts both talk to the simulators.
        saved_environ = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        settings_override = override_settings(
            **environment, **mail_settings, FX_CURRENCIES=fx_currencies
        )
        settings_override.enable()
        self.stdout.write(f"Simulated Zoho CRM and CurrencyFreaks on {server.url}")
        try:
            self._pull(apis, plan)
            self._logins()
            if not options["no_serve"]:
                stop_ticking = _tick_activity(apis)
                try:
                    self._serve(options["host"], options["port"])
                finally:
                    stop_ticking.set()
        finally:
            server.stop()
            settings_override.disable()
            for name, value in saved_environ.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def _pull(self, apis: list[SimulatedApi], plan: HistoryPlan | None) -> None:
        history_months = HISTORY_MONTHS + (plan.days // 30 + 1 if plan else 0)
        try:
            refresh = fx_rates_refresh()
            # Won deals lock the rate of their closing date: give them the history they need.
            today = timezone.localdate()
            for months_back in range(1, history_months + 1):
                year, month = divmod(today.year * 12 + today.month - 1 - months_back, 12)
                fx_rates_backfill(on=date(year, month + 1, 1))
        except CurrencyFreaksError as exc:
            raise CommandError(f"Could not load exchange rates from the simulator: {exc}") from None
        self.stdout.write(
            f"Exchange rates: {len(refresh.stored)} currencies, {history_months} months of history"
        )
        mapped = org_stages_map()
        if mapped:
            self.stdout.write(f"Stage mappings added for the org's own stages: {', '.join(mapped)}")
        if plan is not None:
            self._replay(apis, plan)
        kind = SyncKind.INCREMENTAL if SyncRun.objects.has_succeeded_full() else SyncKind.FULL
        run = zoho_sync(kind=kind, trigger=SyncTrigger.COMMAND)
        if run.status != SyncStatus.SUCCEEDED:
            raise CommandError(f"The demo sync failed: {run.error}")
        self.stdout.write(
            f"{run.get_kind_display()} sync: {run.fetched:,} deals read, {run.created:,} created, "
            f"{run.updated:,} updated, {run.skipped:,} skipped, {run.api_calls} API calls"
        )
        # Today's health, as the nightly job would have set it this morning.
        health_recompute()
        # The dashboard's trend: the nightly snapshots a running installation would have
        # (taken during the replay; days without one are rebuilt from the deals' history).
        today = timezone.localdate()
        days = pipeline_snapshot_backfill(start=today - timedelta(days=TREND_DAYS - 1), end=today)
        self.stdout.write(f"Pipeline snapshots: the last {len(days)} days")

    def _replay(self, apis: list[SimulatedApi], plan: HistoryPlan) -> None:
        zoho = next(api for api in apis if isinstance(api, ZohoSimulator))
        first_time = not SyncRun.objects.has_succeeded_full()
        if first_time:
            self.stdout.write(
                f"Replaying {plan.days} days of the org's history through daily syncs "
                f"({plan.initial_deals:,} deals at the start)…"
            )
        try:
            report = history_replay(
                zoho, plan=plan, trend_days=TREND_DAYS, sync=first_time, echo=self.stdout.write
            )
        except HistoryUnavailable as exc:
            self.stdout.write(self.style.WARNING(f"{exc}: the org is pulled without its past."))
            report = history_replay(
                zoho, plan=plan, trend_days=TREND_DAYS, sync=False, echo=self.stdout.write
            )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"History: {report.days} days, {report.edits:,} edits by the team, "
            f"{report.syncs} syncs, {report.snapshots} nightly snapshots "
            f"({report.seconds:.0f} s)"
        )

    def _logins(self) -> None:
        logins = list(DEMO_LOGINS)
        # The rep is the Zoho owner with the most deals, so their board is full.
        owner = (
            CrmUser.objects.exclude(email="")
            .annotate(deals=Count("opportunities"))
            .order_by("-deals", "name")
            .first()
        )
        if owner is not None:
            logins.append(("rep", owner.email, Role.REP, owner.name))
        admin = None
        for username, email, role, full_name in logins:
            user = login_upsert(
                username=username,
                email=email,
                password=DEMO_PASSWORD,
                role=role,
                full_name=full_name,
            )
            admin = user if role is Role.ADMIN else admin
        # Sign in with Zoho: any of the simulated org's people may create a Rep login.
        if not SignUpDomain.objects.filter(domain=DEMO_DOMAIN).exists():
            sign_up_domain_save(entry=SignUpDomain(domain=DEMO_DOMAIN), user=admin)
        self.stdout.write(
            self.style.SUCCESS("\nDemo logins (password for all: " + DEMO_PASSWORD + ")")
        )
        for username, email, role, _ in logins:
            self.stdout.write(f"  log in as {username} / {DEMO_PASSWORD}  ({role}, {email})")
        self.stdout.write(
            f"  or 'Sign in with Zoho' and choose a person on the simulated Zoho page: "
            f"{owner.name if owner else 'a deal owner'} is the rep login; other {DEMO_DOMAIN} "
            "people get a new Rep login (Admin → Sign-up domains)."
        )

    def _serve(self, host: str, port: int) -> None:
        import uvicorn

        self.stdout.write(
            self.style.SUCCESS(f"\nPipeline Pulse: http://{host}:{port}/  (Ctrl-C stops)\n")
        )
        # Worker with embedded beat: scheduled syncs and refreshes run without more services.
        worker = subprocess.Popen(  # nosec B603
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "pipeline_pulse",
                "--quiet",
                "worker",
                "--beat",
                "--pool=solo",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=WARNING",
            ]
        )
        # uvicorn shuts down on SIGTERM, then raises the signal again with the handler it
        # found. Left at the default, that kills this process on the spot and the worker
        # keeps running; as SystemExit it reaches `finally` and the worker is stopped.
        previous = signal.signal(signal.SIGTERM, _exit_on_terminate)
        try:
            uvicorn.run(
                "pipeline_pulse.asgi:application",
                host=host,
                port=port,
                reload=False,
                lifespan="off",
                log_level="info",
            )
        finally:
            signal.signal(signal.SIGTERM, previous)
            worker.terminate()
            worker.wait(timeout=30)


def _tick_activity(apis: list[Any]) -> threading.Event:
    """Play the simulated team's rounds of edits as they come due (not only when a sync lists
    deals), so Zoho's notifications show them on the board as they happen."""
    stop = threading.Event()
    zoho = next((api for api in apis if isinstance(api, ZohoSimulator)), None)
    activity = zoho.activity if zoho is not None else None
    if activity is None:
        return stop

    def tick() -> None:
        while not stop.wait(ACTIVITY_TICK_SECONDS):
            activity.catch_up()

    threading.Thread(target=tick, name="simulated team", daemon=True).start()
    return stop


def _exit_on_terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)
