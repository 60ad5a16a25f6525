"""A read compiled once must have the id as its only parameter, or be refused."""

import pytest
from django.contrib.auth.models import User

from pipeline_pulse.compiled_sql import sql_with_one_id


def test_the_sql_takes_the_id_as_its_only_parameter() -> None:
    sql = sql_with_one_id(User.objects.filter(pk=0))
    assert sql.count("%s") == 1


def test_a_read_with_other_parameters_is_refused() -> None:
    with pytest.raises(RuntimeError, match="only parameter"):
        sql_with_one_id(User.objects.filter(pk=0, username="someone"))
