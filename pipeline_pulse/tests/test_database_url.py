"""A child process reaches the same database through the URL built for it."""

import environ
import psycopg
import pytest
from django.db import connection

from pipeline_pulse.storage.database_url import database_url

pytestmark = pytest.mark.django_db


def test_the_url_reaches_the_database_this_connection_uses() -> None:
    config = environ.Env.db_url_config(database_url(connection))
    params = {**config.get("OPTIONS", {})}
    with psycopg.connect(
        dbname=config["NAME"],
        user=config["USER"],
        password=config["PASSWORD"] or None,
        host=config["HOST"] or params.get("host"),
        port=config["PORT"] or params.get("port"),
    ) as other:
        name = other.execute("SELECT current_database()").fetchone()
    assert name == (connection.settings_dict["NAME"],)


def test_another_database_on_the_same_server_and_odd_characters_are_quoted() -> None:
    url = database_url(connection, name="bench_x")
    assert environ.Env.db_url_config(url)["NAME"] == "bench_x"
