"""Addresses the layout of every page repeats: its links and its static files, worked out
once per process.

`{% url %}` and `{% static %}` work theirs out on each use: base.html's nine links and six
static files cost about 1 ms of every page's rendering on the web benchmark's machine, for
answers that change only with the URLconf, the script prefix or the static files settings.
`{% route 'name' %}` and `{% asset 'path' %}` give the same answers from a per-process
memo, forgotten when a test changes those settings.
"""

from __future__ import annotations

import functools
from typing import Any

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()

# Settings a memo's answers depend on.
_ROUTE_SETTINGS = frozenset({"ROOT_URLCONF", "FORCE_SCRIPT_NAME"})
_ASSET_SETTINGS = frozenset({"STATIC_URL", "STORAGES", "STATIC_ROOT", "DEBUG"})


@functools.cache
def _route(urlconf: str | None, script_prefix: str, name: str) -> str:
    # The script prefix is part of the key: reverse() reads it from the current request.
    return reverse(name, urlconf=urlconf)


@functools.cache
def _asset(path: str) -> str:
    return static(path)


@register.simple_tag
def route(name: str) -> str:
    """`{% url 'name' %}` for a page without arguments (the navigation, the logout form)."""
    return _route(get_urlconf(), get_script_prefix(), name)


@register.simple_tag
def asset(path: str) -> str:
    """`{% static 'path' %}`: the hashed address of a static file."""
    return _asset(path)


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting in _ROUTE_SETTINGS:
        _route.cache_clear()
    if setting in _ASSET_SETTINGS:
        _asset.cache_clear()
