"""Fixtures shared by every app's tests."""

import importlib
import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import AppConfig
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db.models.signals import post_migrate
from django.template import Context
from django.test import Client
from django.test.signals import template_rendered
from django.utils.safestring import SafeString
from pytest_django import Settings
from template_partials.templatetags.partials import TemplateProxy

from opportunities.roles import Role
from opportunities.tests.factories import UserFactory
from pipeline_pulse.web.rate_limits import rate_limits_reset

_default_stage_mapping = importlib.import_module(
    "opportunities.migrations.0002_default_stage_mapping"
)


# `TEST_TODAY=2027-03-31T23:30+08:00 make test` runs the whole suite as if it were then (the
# clock keeps ticking from there): a test that reads the real calendar fails on some day of
# the year, and `.ci/run` proves there is none by running the suite at a hard date too.
_session_clock: time_machine.travel | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _session_clock
    today = os.environ.get("TEST_TODAY", "").strip()
    if today:
        _session_clock = time_machine.travel(_parse_test_today(today), tick=True)
        _session_clock.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _session_clock is not None:
        _session_clock.stop()


def _parse_test_today(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise pytest.UsageError(
            f"TEST_TODAY={value!r} is not an ISO 8601 date or time, e.g. 2027-03-31T23:30+08:00"
        ) from None
    if moment.tzinfo is None:
        # A bare date or time is a Singapore one, as every business date is.
        moment = moment.replace(tzinfo=ZoneInfo("Asia/Singapore"))
    return moment


def pytest_report_header(config: pytest.Config) -> list[str]:
    database = django_settings.DATABASES["default"]
    if database["ENGINE"] == "pipeline_pulse.storage.embedded_postgres":
        where = (
            f"the embedded PostgreSQL in {django_settings.EMBEDDED_POSTGRES_DIR} "
            "(DATABASE_URL is not set)"
        )
    else:
        where = (
            f"PostgreSQL at {database.get('HOST') or 'localhost'}:{database.get('PORT') or 5432}"
        )
    lines = [f"database: {where}"]
    if _session_clock is not None:
        lines.append(
            f"clock: TEST_TODAY={os.environ['TEST_TODAY']} "
            f"(now {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
        )
    return lines


def _restore_data_migration_rows(sender: AppConfig, **kwargs: Any) -> None:
    """Put back the rows data migrations wrote, after a transactional test's flush.

    pytest-django empties every table after a transactional test (the browser test, the
    live-server and thread tests); flush then sends post_migrate, whose product receivers
    re-create content types, permissions and the role groups, but nothing re-creates the
    default stage mapping, and every later test would sync without it. Idempotent: it also
    runs after the migrations that create the test database.
    """
    _default_stage_mapping.load_default_mapping(kwargs.get("apps") or django_apps, None)


post_migrate.connect(
    _restore_data_migration_rows,
    sender=django_apps.get_app_config("opportunities"),
    dispatch_uid="tests: restore data migration rows",
)


def _instrumented_partial_render(self: TemplateProxy, context: Context) -> SafeString:
    """A partial rendered on its own tells the test client its context, as a template does.

    Django's test environment instruments Template._render so `response.context` holds what
    a view rendered; a page drawn as `page.html#part` (views/figures.py `cached_page`) goes
    through template-partials' proxy instead, which Django does not know about.
    """
    template_rendered.send(sender=self, template=self, context=context)
    return cast(SafeString, self.nodelist.render(context))


TemplateProxy._render = _instrumented_partial_render


@pytest.fixture(autouse=True)
def _test_environment(settings: Settings) -> None:
    # Static files come from the finders: the tests never run collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    # PBKDF2 costs half a second per login the factories create; the tests check roles, not
    # password hashing, so they use Django's fastest hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    rate_limits_reset()


@pytest.fixture(autouse=True)
def _release_session_locks(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that starts a sync run without finishing it leaves the run's advisory lock on the
    test session's connection, which outlives the test's transaction; later tests need it free."""
    yield
    if not request.node.get_closest_marker("django_db") and "db" not in request.fixturenames:
        return
    from django.db import connection

    if connection.connection is None:
        return
    blocker = request.getfixturevalue("django_db_blocker")
    with blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock_all()")


def _login(client: Client, role: Role, **user_fields: object) -> Client:
    user = UserFactory.create(role=role, **user_fields)
    client.force_login(user)
    client.user = user  # type: ignore[attr-defined]
    return client


@pytest.fixture
def admin_client_(client: Client, db: None) -> Client:
    """A client logged in with the Admin role (not a superuser)."""
    return _login(client, Role.ADMIN)


@pytest.fixture
def manager_client(client: Client, db: None) -> Client:
    return _login(client, Role.MANAGER)


@pytest.fixture
def viewer_client(client: Client, db: None) -> Client:
    return _login(client, Role.VIEWER)


@pytest.fixture
def rep_client(client: Client, db: None) -> Client:
    return _login(client, Role.REP, email="rep@example.com")


CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "var" / "screenshots"


@pytest.fixture(scope="module")
def chromium(django_db_setup: None) -> Iterator[object]:
    """Debian's Chromium, headless; `.ci/run` installs it. Skips where it is missing.

    Module-scoped: Playwright keeps an event loop running in this thread while it is open,
    which the rest of the suite must not inherit.
    """
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # The tests' own database calls run beside Playwright's event loop, never inside it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium: object) -> Iterator[object]:
    """A fresh browser tab; console errors fail the test, as a user would see a broken page."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    tab = context.new_page()
    errors: list[str] = []
    tab.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not SUPERSEDED_REQUEST.match(message.text)
            else None
        ),
    )
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, f"browser console errors: {errors}"


# hx-sync "replace" aborts a request a newer one supersedes (one request per board at a time),
# and htmx logs the abort as an error: the page is right, nothing is broken.
SUPERSEDED_REQUEST = re.compile(r"htmx:(afterRequest|sendAbort), \[object HTML")


def screenshot(tab: object, name: str) -> Path:
    """Saved under var/screenshots/ for a person to look at; not compared automatically."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # From the top: a page scrolled to a field draws its sticky header mid-page in a full-page shot.
    tab.evaluate("window.scrollTo(0, 0)")  # type: ignore[attr-defined]
    tab.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path
