"""A read compiled once has the id as its only parameter, and is planned once per connection."""

import os
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pipeline_pulse.compiled_sql import prepared_raw, sql_with_one_id
from pipeline_pulse.tests.settings_probe import settings_in_new_process


def test_the_sql_takes_the_id_as_its_only_parameter() -> None:
    sql = sql_with_one_id(User.objects.filter(pk=0))
    assert sql.count("%s") == 1


def test_a_read_with_other_parameters_is_refused() -> None:
    with pytest.raises(RuntimeError, match="only parameter"):
        sql_with_one_id(User.objects.filter(pk=0, username="someone"))


def _user_by_id_sql() -> str:
    return sql_with_one_id(User.objects.filter(pk=0))


def _prepared_reads() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


@pytest.fixture
def without_prepared_statements() -> Iterator[None]:
    """The connection as DATABASE_PREPARED_STATEMENTS=false leaves it."""
    connection.ensure_connection()
    threshold = connection.connection.prepare_threshold
    connection.connection.prepare_threshold = None
    yield
    connection.connection.prepare_threshold = threshold


@pytest.mark.django_db
def test_prepared_raw_reads_the_same_rows_as_raw() -> None:
    someone = User.objects.create_user("someone", "someone@example.com")
    sql = _user_by_id_sql()
    for _ in range(2):  # planned, then only executed
        (read,) = prepared_raw(User, "default", sql, [someone.pk])
        assert (read.pk, read.username, read.email, read.date_joined) == (
            someone.pk,
            "someone",
            "someone@example.com",
            someone.date_joined,
        )
    assert list(prepared_raw(User, "default", sql, [someone.pk + 1])) == []


@pytest.mark.django_db
def test_each_connection_prepares_a_kept_read_once() -> None:
    users = [User.objects.create_user(f"user{n}") for n in range(3)]
    sql = _user_by_id_sql()
    for user in users:
        assert [read.pk for read in prepared_raw(User, "default", sql, [user.pk])] == [user.pk]
    prepared = [statement for statement in _prepared_reads() if '"auth_user"' in statement]
    assert len(prepared) == 1
    assert "$1" in prepared[0]  # the id is bound by the server, not written into the text


@pytest.mark.django_db
@pytest.mark.usefixtures("without_prepared_statements")
def test_without_prepared_statements_the_read_runs_unprepared() -> None:
    """DATABASE_PREPARED_STATEMENTS=false (a pooler in transaction mode) leaves psycopg's
    prepare_threshold at None: the same reads, nothing kept on the server."""
    user = User.objects.create_user("someone")
    # A text no other test prepares on this connection.
    sql = sql_with_one_id(User.objects.filter(pk=0).only("username"))
    for _ in range(3):
        (read,) = prepared_raw(User, "default", sql, [user.pk])
        assert (read.pk, read.username) == (user.pk, "someone")
    columns = sql.split(" FROM ", 1)[0]
    assert not [statement for statement in _prepared_reads() if statement.startswith(columns)]


@pytest.mark.django_db
def test_a_logged_read_shows_its_sql() -> None:
    """Where queries are logged (DEBUG, a test counting them) the read runs as any other,
    so the log has its text."""
    user = User.objects.create_user("someone")
    with CaptureQueriesContext(connection) as queries:
        list(prepared_raw(User, "default", _user_by_id_sql(), [user.pk]))
    assert len(queries) == 1
    assert '"auth_user"' in queries[0]["sql"]
    assert str(user.pk) in queries[0]["sql"]


@pytest.mark.parametrize(("value", "threshold"), [("", "5"), ("true", "5"), ("false", "None")])
def test_database_prepared_statements_turns_them_on_and_off(value: str, threshold: str) -> None:
    env = {**os.environ, "DATABASE_PREPARED_STATEMENTS": value}
    if not value:
        del env["DATABASE_PREPARED_STATEMENTS"]
    out = settings_in_new_process(
        env, "settings.DATABASES['default'].get('OPTIONS', {}).get('prepare_threshold')"
    )
    assert out.strip() == threshold
