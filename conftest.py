"""Fixtures shared by every app's tests."""

import pytest
from django.core.cache import cache
from django.test import Client
from pytest_django import Settings

from opportunities.roles import Role
from opportunities.tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _test_environment(settings: Settings) -> None:
    # Static files come from the finders: the tests never run collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    cache.clear()


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
