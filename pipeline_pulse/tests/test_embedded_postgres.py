"""Without DATABASE_URL the product runs on an embedded PostgreSQL: started on first use,
reused while it runs, stopped with the last process that used it."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from pipeline_pulse.tests.settings_probe import settings_in_new_process


def _environment(data_dir: Path) -> dict[str, str]:
    # As in a .env copied from .env.example, where DATABASE_URL= is present but empty.
    return {**os.environ, "DATABASE_URL": "", "EMBEDDED_POSTGRES_DIR": str(data_dir)}


def _django(env: dict[str, str], code: str) -> subprocess.Popen[str]:
    prelude = "import django; django.setup(); from django.db import connection; "
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", prelude + code],
        env=env,
        cwd=settings.BASE_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return out


def _running(data_dir: Path) -> bool:
    return (data_dir / "postmaster.pid").exists()


def test_an_empty_database_url_means_the_embedded_postgresql(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": "", "DATA_DIR": str(tmp_path)}
    out = settings_in_new_process(
        env,
        "settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME'], "
        "settings.EMBEDDED_POSTGRES_DIR",
    )
    assert out.split() == [
        "pipeline_pulse.storage.embedded_postgres",
        "pipeline_pulse",
        str(tmp_path / "postgres"),
    ]
    assert not (tmp_path / "postgres").exists()  # nothing starts before a connection


def test_a_database_url_that_is_not_postgresql_is_refused() -> None:
    env = {**os.environ, "DATABASE_URL": "mysql://pulse@127.0.0.1:3306/pipeline_pulse"}
    with pytest.raises(subprocess.CalledProcessError) as refused:
        settings_in_new_process(env, "settings.DATABASES")
    assert "DATABASE_URL must name a PostgreSQL database" in refused.value.stderr


def test_the_process_that_starts_the_server_stops_it_others_leave_it_running(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "postgres"
    env = _environment(data_dir)

    first = _finish(
        _django(
            env,
            "cursor = connection.cursor(); "
            "cursor.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm'); "
            "cursor.execute('CREATE TABLE kept (amount numeric(16, 2))'); "
            "cursor.execute('INSERT INTO kept VALUES (99999999999999.99)'); "
            "cursor.execute('SELECT current_database(), current_setting(%s)', ['server_version']); "
            "print(*cursor.fetchone())",
        )
    )
    database, version = first.split()
    assert database == "pipeline_pulse"
    assert int(version.split(".")[0]) >= 16
    assert not _running(data_dir), "the process that started it has ended: the server stops"

    # The holder starts it; another process uses the same server and leaves it running.
    holder = _django(env, "connection.ensure_connection(); import sys; sys.stdin.read()")
    _wait_until_running(data_dir)
    try:
        second = _finish(
            _django(
                env,
                "cursor = connection.cursor(); cursor.execute('SELECT amount FROM kept'); "
                "print(cursor.fetchone()[0])",
            )
        )
        # Kept across restarts, and NUMERIC to the cent (no floating point anywhere).
        assert second.strip() == "99999999999999.99"
        assert _running(data_dir), "the holder still uses it"
    finally:
        _finish(holder)  # closes its input: it ends as a process ends, and stops the server
    assert not _running(data_dir)


def test_a_server_left_by_a_killed_process_is_reused_and_can_be_stopped(tmp_path: Path) -> None:
    data_dir = tmp_path / "postgres"
    env = _environment(data_dir)
    starter = _django(env, "connection.ensure_connection(); print('ready', flush=True); input()")
    assert starter.stdout is not None
    assert starter.stdout.readline().strip() == "ready"
    starter.kill()  # no exit handlers: the server outlives it
    starter.communicate(timeout=60)
    assert _running(data_dir)
    reused = _finish(
        _django(env, "cursor = connection.cursor(); cursor.execute('SELECT 1'); print('ok')")
    )
    assert reused.strip() == "ok"
    assert _running(data_dir), "a process that did not start the server leaves it running"
    stopped = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pipeline_pulse.storage.embedded_postgres", "stop", str(data_dir)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert stopped.stdout.startswith("stopped")
    assert not _running(data_dir)


def _wait_until_running(data_dir: Path) -> None:
    deadline = time.monotonic() + 60
    while not _running(data_dir):
        assert time.monotonic() < deadline, "the embedded server did not start"
        time.sleep(0.1)
