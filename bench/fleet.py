"""The product as deployed, on this machine: web servers, Celery workers and beat, each a
process of its own, against a benchmark database and Redis databases of their own.

`running_fleet()` starts them the way docker-compose.yml does (uvicorn serving
`pipeline_pulse.asgi`, `celery worker`, `celery beat` with django-celery-beat's database
scheduler), pointed at the Zoho and CurrencyFreaks simulators of a `SimulatorProcess`, and
stops every one of them when the block ends, however it ends (an error, Ctrl-C, SIGTERM).
Each process runs in a session of its own, so a worker is killed with everything it
started, and writes its output to a log file in a folder the table's notes name.

The fleet's settings are bench.fleet_settings: the product's, with a cache key prefix of
its own, a queue per worker (so a task can be sent to every worker at once) and the
incremental sync's interval from BENCH_FLEET_SYNC_SECONDS. BENCH_FLEET_REDIS_URL is the
fleet's cache (default redis://127.0.0.1:6379/12); its broker and Channels layer take the
next two Redis databases, whose queues are emptied when the fleet starts and stops.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import psutil
import redis
from celery import Celery
from celery.utils import worker_direct
from django.core.management import call_command
from django.db import connection

from bench.fleet_processes import (
    START_SECONDS,
    STOP_SECONDS,
    FleetProcess,
    WebServer,
    free_port,
    signal_session,
    start_process,
    start_web,
)
from bench.zoho_process import SimulatorProcess
from pipeline_pulse.settings.backing_services import redis_database
from pipeline_pulse.storage.database_url import database_url

REDIS_URL = os.environ.get("BENCH_FLEET_REDIS_URL", "redis://127.0.0.1:6379/12")
SETTINGS_MODULE = "bench.fleet_settings"


# --- The fleet --------------------------------------------------------------------------------


@dataclass
class Fleet:
    """The running fleet: its web servers, workers and beat, and the tasks it can be sent."""

    environment: dict[str, str]
    logs: Path
    webs: list[WebServer]
    workers: list[FleetProcess]
    beat: FleetProcess | None
    simulators: SimulatorProcess
    concurrency: int
    sender: Celery
    database_name: str
    retired: list[FleetProcess] = field(default_factory=list)  # killed, kept for their logs

    def processes(self) -> list[FleetProcess]:
        """Every process of the fleet now running or meant to (the simulators excepted)."""
        beat = [self.beat] if self.beat else []
        return [*(web.process for web in self.webs), *self.workers, *beat]

    def worker_names(self) -> list[str]:
        return [_worker_node(worker.name) for worker in self.workers]

    def send_task(self, name: str, *, worker: str | None = None, **kwargs: Any) -> None:
        """Queue task `name` as the product would: for any worker, or for this one."""
        queue = worker_direct(worker) if worker else None
        self.sender.send_task(name, kwargs=kwargs, queue=queue)

    def send_to_every_worker(self, name: str, **kwargs: Any) -> None:
        for worker in self.worker_names():
            self.send_task(name, worker=worker, **kwargs)

    def kill_worker(self, worker: FleetProcess) -> None:
        """SIGKILL the worker and its pool processes, as a host that loses power."""
        worker.kill()
        self.workers.remove(worker)
        self.retired.append(worker)

    def start_worker(self, name: str) -> FleetProcess:
        worker = _start_worker(name, self.environment, self.logs, self.concurrency)
        self.workers.append(worker)
        _wait_for_workers(self.sender, [_worker_node(name)])
        return worker

    def worker_holding_connection(self, client_port: int) -> FleetProcess | None:
        """The worker one of whose processes has a database connection from this port."""
        for worker in self.workers:
            for pid in worker.pids():
                try:
                    ports = {c.laddr.port for c in psutil.Process(pid).net_connections("tcp")}
                except psutil.NoSuchProcess:
                    continue
                if client_port in ports:
                    return worker
        return None

    def idle(self) -> bool:
        """No task queued, running, reserved or waiting for its countdown on any worker."""
        queues = ["celery", *(worker_direct(name).name for name in self.worker_names())]
        client = redis.Redis.from_url(broker_url())
        try:
            if any(client.llen(queue) for queue in queues):
                return False
        finally:
            client.close()
        inspect = self.sender.control.inspect(destination=self.worker_names(), timeout=1.0)
        for tasks_by_worker in (inspect.active(), inspect.reserved(), inspect.scheduled()):
            if tasks_by_worker is None or any(tasks_by_worker.values()):
                return False  # busy, or a worker too busy to answer
        return True

    def wait_idle(self, *, timeout: float) -> float:
        """Wait until the fleet is idle twice a second apart; the seconds it took."""
        started = time.monotonic()
        quiet = 0
        while quiet < 2:
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"the fleet was still busy after {timeout:.0f} s")
            quiet = quiet + 1 if self.idle() else 0
            time.sleep(1.0)
        return time.monotonic() - started

    def log_lines(self, text: str) -> int:
        """Lines of every worker's log, the killed ones' included, that contain `text`."""
        count = 0
        for worker in [*self.workers, *self.retired]:
            try:
                content = worker.log_path.read_text(errors="replace")
            except OSError:
                continue
            count += sum(text in line for line in content.splitlines())
        return count


def fleet_environment(
    *,
    database_name: str,
    simulators: SimulatorProcess,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """What every process of the fleet is started with: this one's environment, pointed at
    the benchmark database, the fleet's Redis databases and the simulators."""
    served = simulators.served
    if served is None:
        raise RuntimeError("the simulators are not started")
    return {
        **os.environ,
        **served.environment,
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "DATABASE_URL": database_url(connection, name=database_name),
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": broker_url(),
        "CHANNELS_REDIS_URL": redis_database(REDIS_URL, offset=2),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "INFO",
        # Every e-mail is kept in the database (SentEmail) and sent nowhere.
        "EMAIL_URL": "dummymail://",
        "EMAIL_OUTBOX": "true",
        "EMAIL_OUTBOX_KEEP": "1000000",
        **(extra or {}),
    }


def broker_url() -> str:
    return redis_database(REDIS_URL, offset=1)


@contextmanager
def running_fleet(
    *,
    database_name: str,
    simulators: SimulatorProcess,
    webs: int,
    workers: int,
    concurrency: int,
    beat: bool = True,
    extra_environment: Mapping[str, str] | None = None,
    notify_web: bool = False,
) -> Iterator[Fleet]:
    """Start the fleet, yield it, and stop every process of it when the block ends.

    With `notify_web`, ZOHO_NOTIFY_URL points at the first web server, so the workers
    subscribe to Zoho's notifications and the simulator calls that server back.
    """
    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG is off, as deployed
    logs = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    environment = fleet_environment(
        database_name=database_name, simulators=simulators, extra=extra_environment
    )
    _empty_broker()
    connection.close()  # the fleet's processes are the database's clients from here on
    sender = Celery("bench-fleet", broker=broker_url())
    sender.conf.update(task_serializer="json", accept_content=["json"])
    started: list[FleetProcess] = []
    with ExitStack() as stack:
        stack.callback(_empty_broker)
        stack.callback(sender.close)
        stack.callback(_stop_all, started)
        stack.enter_context(_terminated_as_interrupted())
        ports = [free_port() for _ in range(webs)]
        if notify_web:
            environment["ZOHO_NOTIFY_URL"] = f"http://127.0.0.1:{ports[0]}/zoho/notify/"
        web_servers = []
        for number, port in enumerate(ports, start=1):
            # A line per request would fill the disk in a soak: warnings and errors only.
            web_environment = {**environment, "LOG_LEVEL": "WARNING"}
            server = start_web(f"web-{number}", web_environment, logs, port=port)
            started.append(server.process)
            web_servers.append(server)
        worker_processes = []
        for number in range(workers):
            worker = _start_worker(f"worker-{number + 1}", environment, logs, concurrency)
            started.append(worker)
            worker_processes.append(worker)
        beat_process = _start_beat(environment, logs) if beat else None
        if beat_process:
            started.append(beat_process)
        fleet = Fleet(
            environment=environment,
            logs=logs,
            webs=web_servers,
            workers=worker_processes,
            beat=beat_process,
            simulators=simulators,
            concurrency=concurrency,
            sender=sender,
            database_name=database_name,
        )
        _wait_for_workers(sender, fleet.worker_names())
        # Workers started later (a replacement) are stopped with the fleet too.
        stack.callback(_stop_all, fleet.workers)
        yield fleet


def _start_worker(
    name: str, environment: Mapping[str, str], logs: Path, concurrency: int
) -> FleetProcess:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "pipeline_pulse",
        "worker",
        "--loglevel=INFO",
        f"--concurrency={concurrency}",
        f"--hostname={_worker_node(name)}",
    ]
    return start_process(name, command, environment, logs)


def _start_beat(environment: Mapping[str, str], logs: Path) -> FleetProcess:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "pipeline_pulse",
        "beat",
        "--loglevel=INFO",
        "--scheduler=django_celery_beat.schedulers:DatabaseScheduler",
        f"--pidfile={logs / 'beat.pid'}",
    ]
    return start_process("beat", command, environment, logs)


def _worker_node(name: str) -> str:
    return f"{name}@bench-fleet"


def _wait_for_workers(sender: Celery, names: Sequence[str]) -> None:
    deadline = time.monotonic() + START_SECONDS
    waiting = set(names)
    while waiting and time.monotonic() < deadline:
        for reply in sender.control.ping(destination=list(waiting), timeout=1.0) or []:
            waiting -= set(reply)
    if waiting:
        raise RuntimeError(f"workers did not answer within {START_SECONDS:.0f} s: {waiting}")


def _stop_all(processes: list[FleetProcess]) -> None:
    """Stop every process at once (each has the same time to finish), then wait for them."""
    for process in processes:
        signal_session(process.popen, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        with suppress(subprocess.TimeoutExpired):
            process.popen.wait(timeout=max(deadline - time.monotonic(), 0.1))
        process.kill()


# Kombu's queues, bindings and unacknowledged messages, the workers' own queues, Channels'
# groups and messages: what a stopped fleet may leave in its broker and Channels databases.
BROKER_KEYS = ("celery", "_kombu.*", "unacked*", "*.dq2", "asgi*")


def _empty_broker() -> None:
    """The fleet's queues start and end empty: a task left queued by a run that was stopped
    must not run in the next. Only the broker's and Channels' keys go: other programs on
    this machine may keep a cache in the same databases."""
    for offset in (1, 2):
        client = redis.Redis.from_url(redis_database(REDIS_URL, offset=offset))
        try:
            for pattern in BROKER_KEYS:
                for key in client.scan_iter(match=pattern):
                    client.delete(key)
        finally:
            client.close()


@contextmanager
def _terminated_as_interrupted() -> Iterator[None]:
    """SIGTERM stops the benchmark as Ctrl-C does: the fleet is stopped on the way out."""

    def interrupt(signal_number: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
