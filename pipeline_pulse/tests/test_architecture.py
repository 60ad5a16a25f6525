"""The dependency arrows run one way: sync → opportunities → currency, never back.

The project package plays two parts: its wiring (settings, urls, routing, the demo command)
composes the apps, while its plumbing (bulk writes, dates, HTTP retries, model bases) sits
below every app and imports none. Read from the source (the import statements), so a lazy
import inside a function counts too. Tests are left out: a test may drive several apps.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# App → the project apps it must never import.
APPS = {"currency", "opportunities", "sync", "simulator", "bench"}
FORBIDDEN = {
    "currency": APPS - {"currency"},
    "opportunities": APPS - {"opportunities", "currency"},
    "sync": {"simulator", "bench"},
}
PLUMBING = (
    *("bulk.py", "dates.py", "http.py", "models.py", "fragments.py", "dbprobe.py"),
    # Observability: metrics the apps record, logging and its redaction, Sentry and tracing.
    *("metrics.py", "logging_setup.py", "logging_redaction.py", "logging_requests.py"),
    "telemetry.py",
    # Request handling every app's views share: the client's address, counts that hold under
    # parallel requests, what caches may keep.
    *("client_address.py", "rate_limits.py", "cache_headers.py"),
)


def _imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _sources(app: str) -> list[Path]:
    return [
        path
        for path in sorted((ROOT / app).rglob("*.py"))
        if "tests" not in path.relative_to(ROOT).parts
    ]


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_an_app_never_imports_the_apps_that_depend_on_it(app: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_top_levels(path) & FORBIDDEN[app])
        for path in _sources(app)
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_project_plumbing_imports_no_app() -> None:
    plumbing = [ROOT / "pipeline_pulse" / name for name in PLUMBING]
    offenders = {
        path.name: sorted(_imported_top_levels(path) & APPS) for path in plumbing if path.exists()
    }
    assert {name: apps for name, apps in offenders.items() if apps} == {}
