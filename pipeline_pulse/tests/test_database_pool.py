"""DATABASE_POOL_MAX_SIZE: psycopg's pool through Django's OPTIONS["pool"], or none."""

import os

import pytest
from django.db import connection

from pipeline_pulse.storage.database_url import database_url
from pipeline_pulse.tests.settings_probe import settings_in_new_process

READ = "settings.DATABASES['default'].get('OPTIONS', {}).get('pool'), settings.DATABASES['default']['CONN_MAX_AGE']"  # noqa: E501


def test_without_a_pool_each_thread_keeps_its_connection_for_the_max_age() -> None:
    env = {**os.environ, "DATABASE_POOL_MAX_SIZE": "0", "DATABASE_CONN_MAX_AGE": "60"}
    assert settings_in_new_process(env, READ).strip() == "None 60"


def test_a_pool_bounds_the_connections_and_turns_persistent_connections_off() -> None:
    env = {**os.environ, "DATABASE_POOL_MAX_SIZE": "3", "DATABASE_CONN_MAX_AGE": "60"}
    assert settings_in_new_process(env, READ).strip() == "{'min_size': 1, 'max_size': 3} 0"


@pytest.mark.django_db
def test_a_pooled_process_reads_the_database() -> None:
    env = {**os.environ, "DATABASE_POOL_MAX_SIZE": "2", "DATABASE_URL": database_url(connection)}
    query = "__import__('django.contrib.auth.models').contrib.auth.models.User.objects.count()"
    assert settings_in_new_process(env, query).strip() == "0"
