"""The deployment files and the docs agree with the code."""

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands

ROOT = Path(settings.BASE_DIR)
APP_SERVICES = ("migrate", "web", "worker", "beat")
ENV_READ = re.compile(r'env(?:\.[a-z_]+)?\(\s*"([A-Z][A-Z0-9_]+)"')


def _variables_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for package in ("pipeline_pulse", "opportunities", "sync", "currency"):
        for path in (ROOT / package).rglob("*.py"):
            if "tests" not in path.parts and "migrations" not in path.parts:
                names |= set(ENV_READ.findall(path.read_text()))
    return names


def _documented_in_env_example() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_variable_the_code_reads_is_in_env_example_and_readme() -> None:
    read = _variables_read_by_the_code()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} <= read
    assert read - _documented_in_env_example() == set()
    readme = (ROOT / "README.md").read_text()
    assert {name for name in read if f"`{name}`" not in readme} == set()


def test_compose_has_every_service_with_a_health_check() -> None:
    services = _compose()["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    for name in ("web", "worker", "beat", "postgres", "redis"):
        assert "healthcheck" in services[name], name


def test_compose_environment_uses_only_variables_the_code_reads() -> None:
    services = _compose()["services"]
    read = _variables_read_by_the_code()
    for name in APP_SERVICES:
        assert set(services[name]["environment"]) <= read, name


@pytest.mark.parametrize("service", APP_SERVICES)
def test_compose_commands_point_at_code_that_exists(service: str) -> None:
    command = _compose()["services"][service]["command"]
    program = command[0]
    if program == "uvicorn":
        module, attribute = command[1].split(":")
        assert callable(getattr(importlib.import_module(module), attribute))
    elif program == "celery":
        app_module = command[command.index("-A") + 1]
        assert importlib.import_module(app_module).celery_app.main == "pipeline_pulse"
        assert command[command.index("-A") + 2] in {"worker", "beat"}
        for option in command:
            if option.startswith("--scheduler="):
                module, attribute = option.split("=", 1)[1].split(":")
                assert hasattr(importlib.import_module(module), attribute)
    elif program == "python":
        assert command[1] == "manage.py"
        assert command[2] in get_commands()
    else:
        pytest.fail(f"unexpected program {program!r} in service {service}")


def test_dockerfile_copies_every_app() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for app in ("pipeline_pulse", "opportunities", "sync", "currency", "templates", "static"):
        assert f"COPY {app} " in dockerfile, app
