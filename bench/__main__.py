"""Run benchmarks by name: `python -m bench [name ...]`; with no name, every benchmark."""

from __future__ import annotations

import importlib
import os
import sys

# name → module with a `run() -> Table`
BENCHMARKS = {
    "health": "bench.health",
    "sync": "bench.sync",
    "zoho_pull": "bench.zoho_pull",
    "currency_conversion": "bench.currency_conversion",
}


def main(names: list[str]) -> int:
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipeline_pulse.settings")
    import django

    django.setup()
    for name in names or list(BENCHMARKS):
        table = importlib.import_module(BENCHMARKS[name]).run()
        print(table.render(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
