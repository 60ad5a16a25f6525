"""now_and_on_commit: once outside a transaction, once more at commit inside one."""

from collections.abc import Callable
from typing import Any

import pytest

from pipeline_pulse.storage.transactions import now_and_on_commit


def test_outside_a_transaction_the_action_runs_once() -> None:
    calls: list[int] = []
    now_and_on_commit(lambda: calls.append(len(calls)))
    assert calls == [0]


@pytest.mark.django_db
def test_inside_a_transaction_it_runs_now_and_again_at_commit(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    calls: list[int] = []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        now_and_on_commit(lambda: calls.append(len(calls)))
        assert calls == [0]
    assert len(callbacks) == 1
    assert calls == [0, 1]
