"""The layout's memoised links and static addresses answer as `{% url %}` and `{% static %}`."""

from __future__ import annotations

from django.template import engines
from django.templatetags.static import static
from django.test import override_settings
from django.urls import clear_script_prefix, reverse, set_script_prefix

from pipeline_pulse.templatetags.layout import asset, route


def render(source: str) -> str:
    return engines["django"].from_string("{% load layout %}" + source).render({})


def test_route_is_the_reversed_address():
    assert render("{% route 'board' %}|{% route 'api:docs' %}") == (
        f"{reverse('board')}|{reverse('api:docs')}"
    )


def test_route_follows_the_script_prefix():
    """Served under a sub-path, links carry it: the memo is per prefix."""
    plain = route("board")
    set_script_prefix("/pulse/")
    try:
        assert route("board") == "/pulse" + plain
    finally:
        clear_script_prefix()
    assert route("board") == plain


def test_asset_is_the_static_address():
    assert render("{% asset 'css/pulse.css' %}") == static("css/pulse.css")


def test_asset_is_forgotten_when_the_static_settings_change():
    before = asset("css/pulse.css")
    with override_settings(STATIC_URL="/assets/"):
        assert asset("css/pulse.css") == "/assets/css/pulse.css"
    assert asset("css/pulse.css") == before


def test_the_layout_links_through_the_memo(manager_client):
    """The header's links and files reach the same addresses as before."""
    html = manager_client.get(reverse("board")).content.decode()
    for name in ("home", "board", "changes", "sync", "logout", "freshness"):
        assert f'"{reverse(name)}' in html
    assert f'href="{static("css/pulse.css")}"' in html
