"""Where settings come from: the process environment, and a developer's .env beside manage.py."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A developer's .env is a convenience; the process environment always wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Local state: the embedded PostgreSQL, and without Redis the file cache and the file-system
# Celery broker.
DATA_DIR = Path(env("DATA_DIR", default=str(BASE_DIR / "var")))
