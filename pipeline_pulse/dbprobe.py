"""Print the database URL the test suite should use: PostgreSQL when it answers, else SQLite.

CI always has PostgreSQL (.ci/run starts it); a newcomer without it still gets a green
`make test` on the embedded database, with a notice on stderr.
"""

import os
import sys

DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pipeline_pulse"


def main() -> None:
    url = os.environ.get("DATABASE_URL") or DEFAULT_TEST_DATABASE_URL
    if not url.startswith("postgres"):
        print(url)
        return
    import psycopg

    # The tests create their own database; the server's maintenance database proves it answers.
    probe = url.rsplit("/", 1)[0] + "/postgres"
    try:
        psycopg.connect(probe, connect_timeout=3).close()
    except psycopg.Error as exc:
        print(
            f"PostgreSQL is not reachable ({exc.__class__.__name__}); "
            "running the tests on SQLite instead. CI runs them on PostgreSQL.",
            file=sys.stderr,
        )
        print("sqlite:///:memory:")
        return
    print(url)


if __name__ == "__main__":
    main()
