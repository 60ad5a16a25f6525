"""No process serves with a key anyone could read in the code."""

import os
import subprocess

import pytest

from pipeline_pulse.tests.settings_probe import settings_in_new_process


def _without_key(**variables: str) -> dict[str, str]:
    # Empty rather than absent: a developer's .env may hold a key, and the process
    # environment wins over it (an empty key is no key).
    return {**os.environ, "SECRET_KEY": "", **variables}


def test_without_debug_a_missing_key_stops_the_start() -> None:
    with pytest.raises(subprocess.CalledProcessError) as refused:
        settings_in_new_process(_without_key(DEBUG="false"), "settings.SECRET_KEY")
    assert "SECRET_KEY is not set" in refused.value.stderr


def test_debug_may_run_on_a_key_that_says_it_is_insecure() -> None:
    key = settings_in_new_process(_without_key(DEBUG="true"), "settings.SECRET_KEY").strip()
    assert key.startswith("django-insecure-")


def test_a_key_in_the_environment_is_used() -> None:
    env = _without_key(DEBUG="false", SECRET_KEY="k" * 50)
    assert settings_in_new_process(env, "settings.SECRET_KEY").strip() == "k" * 50
