"""The fleet's processes: each in a session of its own, its memory with everything it started,
stopped gently then for good; uvicorn serving the product as one web host."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests
from django.conf import settings
from django.core.management import call_command

ASGI_APPLICATION = "pipeline_pulse.asgi:application"
START_SECONDS = 120.0
STOP_SECONDS = 30.0


# --- One process ------------------------------------------------------------------------------


@dataclass
class FleetProcess:
    """A process of the fleet, with the processes it started (a worker's pool, uvicorn's)."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def pids(self) -> list[int]:
        """This process and every process under it, while they run."""
        try:
            root = psutil.Process(self.pid)
            return [root.pid, *(child.pid for child in root.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []

    def rss_mb(self) -> float | None:
        """Resident memory of the process and everything under it; None once it is gone."""
        return tree_rss_mb(self.pid)

    def stop(self, *, timeout: float = STOP_SECONDS) -> None:
        """SIGTERM to its session (Celery's warm shutdown, uvicorn's graceful one), then
        SIGKILL to whatever is left after `timeout`."""
        signal_session(self.popen, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=timeout)
        self.kill()

    def kill(self) -> None:
        """SIGKILL to the process and everything in its session: a host that dies."""
        signal_session(self.popen, signal.SIGKILL)
        self.popen.wait()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def tree_rss_mb(pid: int) -> float | None:
    """Resident memory of process `pid` and every process under it; None when it is gone."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return None
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue  # a pool process that ended between the listing and the reading
    return total / 2**20


def signal_session(popen: subprocess.Popen[bytes], signal_number: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(popen.pid, signal_number)  # its session's group: pool processes too


def start_process(
    name: str, command: Sequence[str], environment: Mapping[str, str], logs: Path
) -> FleetProcess:
    log_path = logs / f"{name}.log"
    with log_path.open("ab") as log:
        popen = subprocess.Popen(  # noqa: S603  # nosec B603 - this interpreter, no shell
            list(command),
            env=dict(environment),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the benchmark, which stops it
        )
    return FleetProcess(name, popen, log_path)


# --- Web servers ------------------------------------------------------------------------------


@dataclass
class WebServer:
    """uvicorn serving the product on a port of its own: one web host."""

    base: str
    process: FleetProcess

    def url(self, path: str) -> str:
        return self.base + path

    def session(self, cookie: str) -> requests.Session:
        session = requests.Session()
        session.cookies.set(settings.SESSION_COOKIE_NAME, cookie)
        return session

    def worker_peak_rss_mb(self) -> dict[int, float]:
        """Each uvicorn worker process's resident-memory high-water mark (VmHWM), by pid."""
        peaks = {}
        for pid in self.process.pids()[1:]:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1]) / 1024
        return peaks


def uvicorn_command(*, port: int, workers: int, app: str = ASGI_APPLICATION) -> list[str]:
    """uvicorn as docker-compose.yml runs it, on 127.0.0.1, without access logs."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host=127.0.0.1",
        f"--port={port}",
        f"--workers={workers}",
        "--lifespan=off",
        "--no-access-log",
        "--log-level=warning",
    ]


def start_web(
    name: str,
    environment: Mapping[str, str],
    logs: Path,
    *,
    workers: int = 1,
    app: str = ASGI_APPLICATION,
    port: int | None = None,
) -> WebServer:
    """Start uvicorn and wait until it answers /healthz (DEBUG off: collectstatic first)."""
    port = port or free_port()
    process = start_process(
        name, uvicorn_command(port=port, workers=workers, app=app), environment, logs
    )
    server = WebServer(base=f"http://127.0.0.1:{port}", process=process)
    try:
        _wait_until_up(server, workers=workers)
    except BaseException:
        process.kill()
        raise
    return server


@contextmanager
def serve_web(
    environment: Mapping[str, str], *, workers: int, app: str = ASGI_APPLICATION
) -> Iterator[WebServer]:
    """One uvicorn server for the block, stopped when it ends."""
    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG is off, as deployed
    logs = Path(tempfile.mkdtemp(prefix="bench-web-"))
    server = start_web("web", environment, logs, workers=workers, app=app)
    try:
        yield server
    finally:
        server.process.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(server: WebServer, *, workers: int) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if not server.process.alive():
            raise RuntimeError(
                f"uvicorn exited on start with code {server.process.popen.returncode}:\n"
                + server.process.log_tail()
            )
        try:
            if requests.get(server.url("/healthz"), timeout=2).ok:
                if workers > 1:
                    # Every worker imports Django on its own: give the others their turn too.
                    time.sleep(2)
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"uvicorn did not answer within {START_SECONDS:.0f} s")
