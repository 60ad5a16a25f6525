"""Read settings as a new process would build them from a given environment."""

import subprocess
import sys

from django.conf import settings


def settings_in_new_process(env: dict[str, str], expression: str) -> str:
    """What `print(<expression>)` writes, with `settings` set up from `env` (the settings
    module reads the environment once, at import: a test cannot change it in this one)."""
    code = f"import django; from django.conf import settings; django.setup(); print({expression})"
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    ).stdout
