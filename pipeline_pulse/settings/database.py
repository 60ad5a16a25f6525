"""The database: PostgreSQL at DATABASE_URL, or the embedded one."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from pipeline_pulse.settings.environment import DATA_DIR, env

# PostgreSQL everywhere. DATABASE_URL names the server (production, CI); unset or empty (as in
# a copied .env.example), an embedded PostgreSQL runs from EMBEDDED_POSTGRES_DIR, started on
# the first connection and stopped when the process that started it exits
# (pipeline_pulse/storage/embedded_postgres).
DATABASE_URL = env("DATABASE_URL", default="")
EMBEDDED_POSTGRES_DIR = Path(env("EMBEDDED_POSTGRES_DIR", default=str(DATA_DIR / "postgres")))
if DATABASE_URL:
    DATABASES = {"default": environ.Env.db_url_config(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database (postgres://…)")
else:
    DATABASES = {
        "default": {
            "ENGINE": "pipeline_pulse.storage.embedded_postgres",
            "NAME": "pipeline_pulse",
            "USER": "postgres",
        }
    }
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A pool of at most this many connections per process (psycopg_pool, through Django's
# OPTIONS["pool"]), shared by its threads: a process then holds what it uses at once, not one
# connection per thread it ever ran. 0 (the default): no pool. Django refuses persistent
# connections beside a pool, so DATABASE_CONN_MAX_AGE does not apply then.
DATABASE_POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", default=0)
if DATABASE_POOL_MAX_SIZE > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_MAX_SIZE,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Requests one web process serves at once (asgi.py's thread pool); each thread keeps its own
# database connection, so a process holds up to this many. Pages are CPU-bound and share the
# process's interpreter lock: a few threads per process serve 8 clients faster than ten.
WEB_THREADS = env.int("WEB_THREADS", default=4)
