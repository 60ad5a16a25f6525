"""Django's PostgreSQL backend, pointed at the embedded server, which it starts on first use.

Everything but where to connect is Django's own backend: the same SQL, locks and upserts as
on a PostgreSQL server. Nothing starts until a connection is needed, so commands that never
touch the database (lint, type checks) start no server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base

from pipeline_pulse.storage.embedded_postgres import embedded_server


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        server = embedded_server(
            Path(settings.EMBEDDED_POSTGRES_DIR), database=settings.DATABASES["default"]["NAME"]
        )
        params = super().get_connection_params()
        params["host"] = server.socket_dir
        params["port"] = server.port
        return params
