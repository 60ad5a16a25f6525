"""The dependency arrows run one way: sync → opportunities → currency, never back.

The project package plays two parts: its wiring (urls, routing, the API's routes, the metrics
endpoint, the demo commands) composes the apps, while its shared platform (settings, storage,
the web edge, observability, dates, display, model bases) sits below every app and imports
none. Read from the source (the import statements), so a lazy
import inside a function counts too. Tests are left out: a test may drive several apps.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# App → the project apps it must never import.
APPS = {"currency", "opportunities", "sync", "alerts", "simulator", "bench"}
FORBIDDEN = {
    "currency": APPS - {"currency"},
    "opportunities": APPS - {"opportunities", "currency"},
    "sync": {"alerts", "simulator", "bench"},
    "alerts": {"simulator", "bench"},
}
# The project's wiring composes the apps; every other module of the project package is shared
# platform below every app (storage, the web edge, observability, dates, display, the API's
# plumbing) and imports none.
WIRING = frozenset(
    {
        "pipeline_pulse/urls.py",
        "pipeline_pulse/routing.py",
        "pipeline_pulse/metrics_endpoint.py",
        "pipeline_pulse/management/commands/demo.py",
        "pipeline_pulse/management/demo_history.py",
        "pipeline_pulse/management/commands/run_simulator.py",
    }
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


def test_the_project_platform_imports_no_app() -> None:
    platform = [
        path
        for path in _sources("pipeline_pulse")
        if "migrations" not in path.parts and str(path.relative_to(ROOT)) not in WIRING
    ]
    assert len(platform) > 20
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_top_levels(path) & APPS) for path in platform
    }
    assert {name: apps for name, apps in offenders.items() if apps} == {}


def test_the_wiring_is_what_it_says() -> None:
    assert all((ROOT / path).exists() for path in WIRING)


def test_the_architecture_map_names_every_module() -> None:
    """docs/architecture.md lists every module of the product under its package, one line
    each: a module added without its line there fails here."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    missing = []
    for package in ("pipeline_pulse", "opportunities", "sync", "currency", "alerts", "simulator"):
        start = text.index(f"### `{package}/`")
        end = text.find("\n### ", start + 1)
        section = text[start : end if end != -1 else None]
        for path in _sources(package):
            relative = path.relative_to(ROOT / package)
            if "migrations" in relative.parts:
                continue
            if path.name == "__init__.py" and f"`{relative}`" not in section:
                continue  # a package's __init__ is listed when it holds code of its own
            if f"| `{relative}` |" not in section:
                missing.append(str(path.relative_to(ROOT)))
    assert missing == []
