"""The deployment files and the docs agree with the code, and the docs with each other."""

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
FENCED_CODE = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1", flags=re.MULTILINE | re.DOTALL)
INLINE_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", flags=re.MULTILINE)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", flags=re.MULTILINE)


def _variables_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for package in ("pipeline_pulse", "opportunities", "sync", "currency", "alerts"):
        for path in (ROOT / package).rglob("*.py"):
            if "tests" not in path.parts and "migrations" not in path.parts:
                names |= set(ENV_READ.findall(path.read_text()))
    return names


def _documented_in_env_example() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_variable_the_code_reads_is_in_env_example_and_the_configuration_doc() -> None:
    read = _variables_read_by_the_code()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} <= read
    assert read - _documented_in_env_example() == set()
    configuration = (ROOT / "docs" / "configuration.md").read_text()
    assert {name for name in read if f"`{name}`" not in configuration} == set()


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _links(text: str) -> list[str]:
    """Targets of inline and reference-style Markdown links, outside fenced code blocks."""
    prose = FENCED_CODE.sub("", text)
    return [*INLINE_LINK.findall(prose), *REFERENCE_LINK.findall(prose)]


def _anchors(markdown: Path) -> set[str]:
    """The anchors GitHub gives a document's headings."""
    anchors: set[str] = set()
    for heading in HEADING.findall(FENCED_CODE.sub("", markdown.read_text())):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


@pytest.mark.parametrize("document", _documents(), ids=lambda path: path.name)
def test_docs_stand_on_their_own(document: Path) -> None:
    """The repository describes itself: nothing in the docs points into ../shared."""
    lines = [
        line
        for line in document.read_text().splitlines()
        if re.search(r"\.\./shared\b|/work/shared\b", line)
    ]
    assert lines == [], f"{document.name} points outside the repository: {lines}"


@pytest.mark.parametrize("document", _documents(), ids=lambda path: path.name)
def test_relative_links_in_docs_point_at_files_that_exist(document: Path) -> None:
    broken = []
    for target in _links(document.read_text()):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, flags=re.IGNORECASE):
            continue  # https:, mailto: and other absolute URLs
        path_part, _, anchor = target.partition("#")
        linked = (document.parent / path_part).resolve() if path_part else document.resolve()
        if ROOT.resolve() not in (linked, *linked.parents):
            broken.append(f"{target} (outside the repository)")
        elif not linked.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target} (no such heading)")
    assert broken == [], f"{document.name}: {broken}"


def test_compose_has_every_service_with_a_health_check() -> None:
    services = _compose()["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    for name in ("web", "worker", "beat", "postgres", "redis"):
        assert "healthcheck" in services[name], name


# Read by the servers themselves, not by our code: uvicorn's trusted proxy addresses.
SERVER_VARIABLES = {"web": {"FORWARDED_ALLOW_IPS"}}


def test_compose_passes_every_variable_the_code_reads_and_no_other() -> None:
    services = _compose()["services"]
    read = _variables_read_by_the_code()
    for name in APP_SERVICES:
        expected = read | SERVER_VARIABLES.get(name, set())
        assert set(services[name]["environment"]) == expected, name
    assert set().union(*SERVER_VARIABLES.values()) <= _documented_in_env_example()


def test_compose_refuses_to_start_without_its_secrets() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for secret in ("SECRET_KEY", "POSTGRES_PASSWORD"):
        uses = re.findall(r"\$\{" + secret + r"(:?[?-])?[^}]*\}", text)
        assert uses, secret
        assert set(uses) == {":?"}, f"{secret} must be required (${{{secret}:?…}}), never defaulted"


def test_compose_keeps_cache_broker_and_channels_in_separate_redis_databases() -> None:
    environment = _compose()["services"]["worker"]["environment"]
    urls = [environment[name] for name in ("REDIS_URL", "CELERY_BROKER_URL", "CHANNELS_REDIS_URL")]
    assert len(set(urls)) == 3, "a cache clear (FLUSHDB) would empty the task queue"
    redis = _compose()["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])


def test_compose_pins_every_image_it_pulls() -> None:
    for name, service in _compose()["services"].items():
        image = service.get("image", "")
        if "build" in service or not image:
            continue
        tag = image.partition(":")[2]
        assert re.match(r"^\d+\.\d+(\.\d+)?(-[a-z0-9]+)?$", tag), f"{name}: {image} is not pinned"


def test_compose_lets_work_in_flight_finish_before_a_stop() -> None:
    services = _compose()["services"]

    def seconds(value: str) -> int:
        number, unit = re.fullmatch(r"(\d+)([sm])", value).groups()  # type: ignore[union-attr]
        return int(number) * (60 if unit == "m" else 1)

    # Docker's default is 10 s: less than an export of a large board or a push batch.
    assert seconds(services["web"]["stop_grace_period"]) >= 30
    assert seconds(services["worker"]["stop_grace_period"]) >= 60


def test_compose_checks_that_beat_sends_its_schedule_and_publishes_web_on_loopback() -> None:
    services = _compose()["services"]
    check = services["beat"]["healthcheck"]["test"]
    assert check[-2:] == ["manage.py", "beat_health"]
    assert "beat_health" in get_commands()
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]


def test_the_image_installs_the_lock_first_and_runs_read_only_code_as_a_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    install = dockerfile.index("--require-hashes")
    assert "requirements/runtime.txt" in dockerfile[:install]
    assert install < dockerfile.index("COPY pipeline_pulse "), "dependencies before the code"
    assert "compileall" in dockerfile
    runtime = dockerfile[dockerfile.rindex("FROM ") :]
    assert re.search(r"^USER \d+$", runtime, flags=re.MULTILINE), "a numeric non-root user"
    assert "chown" not in dockerfile, "the runtime user must not own (and so rewrite) the code"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var", ".env", "**/tests", "bench"} <= set(ignored)


def test_compose_passes_settings_through_without_making_them_empty() -> None:
    # `NAME:` with no value passes the shell's value, or leaves NAME unset (the app's
    # default); `${NAME:-}` would set it to "", which e.g. an integer setting cannot read.
    environment = _compose()["services"]["web"]["environment"]
    for name, value in environment.items():
        assert value != "${" + name + ":-}", name


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


def test_compose_logs_json_and_web_and_worker_share_the_metrics_folder() -> None:
    compose = _compose()
    services = compose["services"]
    for name in APP_SERVICES:
        assert services[name]["environment"]["LOG_FORMAT"] == "json", name
    folders = {
        name: services[name]["environment"].get("PROMETHEUS_MULTIPROC_DIR")
        for name in ("web", "worker")
    }
    assert folders["web"]
    assert folders["web"] == folders["worker"]
    for name in ("web", "worker"):
        volume, mounted_at = services[name]["volumes"][0].split(":")
        assert (volume, mounted_at) == ("metrics", folders["web"]), name
    options = compose["volumes"]["metrics"]["driver_opts"]
    assert options["type"] == "tmpfs"
    # Writable by the image's user: the same uid the Dockerfile creates.
    uid = re.search(r"useradd .*--uid (\d+)", (ROOT / "Dockerfile").read_text())
    assert uid is not None
    assert f"uid={uid.group(1)}" in options["o"].split(",")
