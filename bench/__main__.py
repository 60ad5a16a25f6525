"""Run benchmarks by name: `python -m bench [name ...]`; with no name, every benchmark but
the soak, which runs for half an hour and only when named."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

# name → module with a `run() -> Table`
BENCHMARKS = {
    "health": "bench.health",
    "sync": "bench.sync",
    "zoho_pull": "bench.zoho_pull",
    "currency_conversion": "bench.currency_conversion",
    "web": "bench.web",
    "migrations": "bench.migrations",
    "scaleout": "bench.scaleout",
    "soak": "bench.soak",
}
NAMED_ONLY = frozenset({"soak"})


def main(names: list[str]) -> int:
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    selected = names or [name for name in BENCHMARKS if name not in NAMED_ONLY]
    if len(selected) > 1:
        # One fresh interpreter each: peak RSS is a process's high-water mark, and one
        # benchmark's peak must not show up in the next one's table.
        failed = []
        for name in selected:
            command = [sys.executable, "-m", "bench", name]  # this interpreter, no shell
            if subprocess.run(command, check=False).returncode:  # noqa: S603
                failed.append(name)
        if failed:
            print(f"failed: {', '.join(failed)}")
        return 1 if failed else 0
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipeline_pulse.settings")
    import django

    django.setup()
    table = importlib.import_module(BENCHMARKS[selected[0]]).run()
    print(table.render(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
