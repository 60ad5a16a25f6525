"""`python -m pipeline_pulse.storage.embedded_postgres stop [DATA_DIR]`: stop an embedded server
left running (by a process that was killed), e.g. before deleting its folder."""

import sys
from pathlib import Path

from pipeline_pulse.storage.embedded_postgres import stop


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "stop" or len(argv) > 2:
        print("usage: python -m pipeline_pulse.storage.embedded_postgres stop [DATA_DIR]")
        return 2
    data_dir = Path(argv[1] if len(argv) == 2 else "var/postgres").resolve()
    stopped = data_dir.exists() and stop(data_dir)
    print(f"{'stopped' if stopped else 'not running'}: {data_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
