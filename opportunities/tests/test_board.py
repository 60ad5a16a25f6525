"""The health board: filters in the URL, clear errors, grouping, sorting, pages, options."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from opportunities.data_version import deals_changed
from opportunities.models import HealthStatus, Outcome
from opportunities.roles import Role
from opportunities.tests.factories import CrmUserFactory, UserFactory
from opportunities.tests.screens import deal

pytestmark = pytest.mark.django_db


def _names(client: Client, query: str = "") -> list[str]:
    response = client.get(reverse("board") + query)
    assert response.status_code == 200, response.content.decode()[:500]
    return [row.name for row in response.context["page"].object_list]


def test_default_view_is_open_and_won_deals_and_says_so(manager_client: Client) -> None:
    deal(name="Open one")
    deal(name="Won one", outcome=Outcome.WON)
    deal(name="Lost one", outcome=Outcome.LOST, health=HealthStatus.NEUTRAL)
    response = manager_client.get(reverse("board"))
    assert {row.name for row in response.context["page"].object_list} == {"Open one", "Won one"}
    content = response.content.decode()
    assert "Lost deals are hidden" in content
    assert 'name="outcome" value="open" checked' in content
    assert 'name="outcome" value="lost"' in content
    assert 'name="outcome" value="lost" checked' not in content


def test_any_filter_replaces_the_default(manager_client: Client) -> None:
    deal(name="Lost in Danger?", outcome=Outcome.LOST, health=HealthStatus.NEUTRAL, territory="X")
    assert _names(manager_client, "?territory=X") == ["Lost in Danger?"]
    # Page and sort alone keep the default view.
    assert _names(manager_client, "?sort=name") == []


def test_groups_worst_first_with_headings_and_totals(manager_client: Client) -> None:
    deal(name="Fine", health=HealthStatus.SUCCESS, sgd="10.00")
    deal(name="Bad", health=HealthStatus.DANGER, sgd="20.00")
    deal(name="Meh", health=HealthStatus.WARNING, sgd="30.00")
    response = manager_client.get(reverse("board"))
    assert [row.name for row in response.context["page"].object_list] == ["Bad", "Meh", "Fine"]
    content = response.content.decode()
    assert content.count('class="group-row"') == 3
    assert "S$20.00" in content
    groups = {g["status"]: (g["count"], g["sgd"]) for g in response.context["groups"]}
    assert groups["danger"] == (1, Decimal("20.00"))


def test_reasons_are_shown_in_words(manager_client: Client) -> None:
    deal(
        health=HealthStatus.DANGER,
        health_reasons=[
            {
                "code": "closing_passed",
                "severity": "danger",
                "message": "Closing date passed 12 days ago",
            },
            {"code": "stale", "severity": "warning", "message": "No change in Zoho for 30 days"},
        ],
    )
    content = manager_client.get(reverse("board")).content.decode()
    assert "Closing date passed 12 days ago" in content
    assert "No change in Zoho for 30 days" in content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?territory=Singapore", {"SG"}),
        ("?service_line=Data", {"SG"}),
        ("?currency=usd", {"MY"}),
        ("?phase=3", {"MY"}),
        ("?health=danger", {"MY"}),
        ("?probability=80-100", {"MY"}),
        ("?requires_attention=true", {"MY"}),
        ("?strategic=true", {"MY"}),
        ("?q=jurong", {"SG"}),
        ("?closing=next_quarter&outcome=open", {"MY"}),
        ("?closing=custom&closing_from=2000-01-01&closing_to=2000-12-31", set()),
        ("?converted=false", set()),
        ("?converted=true&outcome=open", {"SG", "MY"}),
        ("?strategic=false", {"SG"}),
        ("?requires_attention=false", {"SG"}),
        ("?sort=-amount_sgd&outcome=open", {"SG", "MY"}),
    ],
)
def test_filters(manager_client: Client, query: str, expected: set[str]) -> None:
    from pipeline_pulse.dates import quarter_bounds

    this_quarter_ends, next_quarter = (
        quarter_bounds(timezone.localdate())[1],
        quarter_bounds(timezone.localdate(), offset=1)[0],
    )
    deal(
        name="SG",
        closing=this_quarter_ends,
        territory="Singapore",
        service_line="Data",
        phase=1,
        probability=10,
        account__name="Jurong Port",
    )
    deal(
        name="MY",
        territory="Malaysia",
        service_line="Cloud",
        phase=3,
        probability=90,
        currency="USD",
        sgd="2000000.00",
        health=HealthStatus.DANGER,
        closing=next_quarter,
    )
    assert set(_names(manager_client, query)) == expected


def test_owner_filter_and_options_come_from_visible_deals(manager_client: Client) -> None:
    alice = CrmUserFactory.create(name="Alice Tan")
    deal(name="Alice's", owner=alice, territory="Singapore", currency="EUR")
    deal(name="Bob's", owner=CrmUserFactory.create(name="Bob Lim"), territory="India")
    assert _names(manager_client, f"?owner={alice.pk}") == ["Alice's"]
    options = manager_client.get(reverse("board")).context["options"]
    assert options["territories"] == ["India", "Singapore"]
    assert (str(alice.pk), "Alice Tan") in options["owners"]
    assert "EUR" in options["currencies"]


def test_a_reps_options_are_only_their_own(client: Client) -> None:
    mine = CrmUserFactory.create(email="rep@example.com")
    deal(owner=mine, territory="Mine")
    deal(territory="Theirs")
    client.force_login(UserFactory.create(role=Role.REP, email="rep@example.com"))
    assert client.get(reverse("board")).context["options"]["territories"] == ["Mine"]


def test_options_are_cached_briefly(manager_client: Client) -> None:
    deal(territory="First")
    manager_client.get(reverse("board"))
    deal(territory="Second")
    deals_changed()  # the board is drawn again, with the options kept from before
    assert manager_client.get(reverse("board")).context["options"]["territories"] == ["First"]
    cache.clear()
    options = manager_client.get(reverse("board")).context["options"]
    assert options["territories"] == ["First", "Second"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?health=purple", "Select a valid choice"),
        ("?closing=someday", "Select a valid choice"),
        ("?closing_from=2026-13-45", "Enter a valid date"),
        ("?closing_from=2026-05-01&closing_to=2026-04-01", "before its start"),
        ("?currency=DOLLARS", "A value is longer than 3 characters"),
        ("?owner=abc", "is not a valid value"),
        ("?sort=password", "Select a valid choice"),
    ],
)
def test_invalid_filters_are_a_clear_error_not_a_wider_list(
    manager_client: Client, query: str, message: str
) -> None:
    deal()
    response = manager_client.get(reverse("board") + query)
    assert response.status_code == 400
    content = response.content.decode()
    assert "Some filters could not be read, so no deals are shown." in content
    assert message in content
    assert response.context["page"] is None
    fragment = manager_client.get(reverse("board") + query, headers={"HX-Request": "true"})
    assert fragment.status_code == 400
    assert "could not be read" in fragment.content.decode()


def test_pages_of_fifty_keep_the_filters(manager_client: Client) -> None:
    for _ in range(55):
        deal(territory="Singapore")
    response = manager_client.get(reverse("board") + "?territory=Singapore&page=2")
    assert len(response.context["page"].object_list) == 5
    assert response.context["page"].paginator.count == 55
    content = response.content.decode()
    assert "?territory=Singapore&amp;page=1" in content
    assert 'hx-push-url="true"' in content
    assert "Deals 51\u201355 of 55" in content


def test_sort_headers_and_the_sort_select(manager_client: Client) -> None:
    deal(name="B", sgd="1.00")
    deal(name="A", sgd="2.00")
    assert _names(manager_client, "?sort=name") == ["A", "B"]  # sort alone keeps the default
    response = manager_client.get(reverse("board") + "?outcome=open&sort=name")
    assert [row.name for row in response.context["page"].object_list] == ["A", "B"]
    content = response.content.decode()
    assert 'aria-sort="ascending"' in content
    assert "sort=-name" in content
    assert response.context["grouped"] is False
    fragment = manager_client.get(
        reverse("board") + "?outcome=open&sort=-amount_sgd", headers={"HX-Request": "true"}
    ).content.decode()
    assert 'id="sort" name="sort" hx-swap-oob="true"' in fragment
    assert '<option value="-amount_sgd" selected>' in fragment


def test_results_refresh_when_a_sync_finishes(manager_client: Client) -> None:
    content = manager_client.get(reverse("board") + "?health=danger").content.decode()
    assert 'hx-get="/board/?health=danger" hx-trigger="pulse:data-changed from:body"' in content


def test_empty_states_say_why(manager_client: Client) -> None:
    assert (
        "once they are synced from Zoho CRM"
        in manager_client.get(reverse("board")).content.decode()
    )
    deal()
    content = manager_client.get(reverse("board") + "?territory=Nowhere").content.decode()
    assert "No deal matches these filters" in content


def test_export_links_carry_the_boards_query(manager_client: Client) -> None:
    query = "health=danger&sort=-amount_sgd&page=2"
    content = manager_client.get(f"{reverse('board')}?{query}").content.decode()
    escaped = query.replace("&", "&amp;")
    assert f'href="{reverse("board_export_csv")}?{escaped}"' in content
    assert f'href="{reverse("board_export_xlsx")}?{escaped}"' in content
    bad = manager_client.get(f"{reverse('board')}?closing_from=someday")
    assert bad.status_code == 400
    assert "Export CSV" not in bad.content.decode()  # nothing to export from a bad query


def test_not_converted_deals_say_so(manager_client: Client) -> None:
    deal(sgd=None)
    content = manager_client.get(reverse("board")).content.decode()
    assert "Not converted" in content
    assert "XAF 500.00" in content


def _queries(client: Client, query: str) -> int:
    cache.clear()  # figures are cached: measure the reads that compute them
    client.get(reverse("board") + query)
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("board") + query).status_code == 200
    return len(captured)


@pytest.mark.parametrize("query", ["", "?health=danger&sort=-amount_sgd", "?owner=1&q=deal"])
def test_query_count_is_the_same_for_5_and_50_rows(manager_client: Client, query: str) -> None:
    owner = CrmUserFactory.create(pk=1)
    reasons = [{"code": "x", "severity": "danger", "message": "Closing date passed"}]
    for _ in range(5):
        deal(health=HealthStatus.DANGER, owner=owner, health_reasons=reasons)
    few = _queries(manager_client, query)
    for _ in range(45):
        deal(health=HealthStatus.DANGER, owner=owner, health_reasons=reasons)
    assert _queries(manager_client, query) == few


def test_closing_this_quarter_window(manager_client: Client) -> None:
    deal(name="Soon", closing=timezone.localdate())
    deal(name="Later", closing=timezone.localdate() + timedelta(days=200))
    assert _names(manager_client, "?closing=this_quarter") == ["Soon"]


def test_the_default_views_first_page_can_be_read_from_the_boards_index() -> None:
    """The index and the board's order are one expression: change one and the board sorts
    every deal in play on every request again (a sort of 75,000 rows at 100,000 deals)."""
    from django.http import QueryDict

    from opportunities.filters import DealFilter
    from opportunities.models import Opportunity
    from opportunities.views.board import board_query

    query, _ = board_query(QueryDict())
    first_page = DealFilter(query, queryset=Opportunity.objects.live()).qs.values_list(
        "pk", flat=True
    )[:50]
    sql, params = first_page.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of test rows: force the choice
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "opp_board_in_play_idx" in plan
    assert "Sort" not in plan


@pytest.mark.parametrize(
    ("change", "now_shown"),
    [
        (
            {"health_reasons": [{"code": "stale", "severity": "warning", "message": "Quiet"}]},
            "Quiet",
        ),
        ({"name": "Renamed deal"}, "Renamed deal"),
        ({"closing_date": date(2031, 6, 30)}, "2031"),
        ({"pending_fields": ["closing_date"]}, "Pending Zoho"),
    ],
)
def test_a_row_changed_is_drawn_afresh_once_the_data_version_moves(
    manager_client: Client, change: dict[str, object], now_shown: str
) -> None:
    """The page is kept per data version: a changed row shows once the version moves."""
    from opportunities.models import Opportunity

    shown = deal(name="Harbour fit-out")
    assert now_shown not in manager_client.get(reverse("board")).content.decode()
    Opportunity.objects.filter(pk=shown.pk).update(**change)
    assert now_shown not in manager_client.get(reverse("board")).content.decode()  # <= 30 s
    deals_changed()
    assert now_shown in manager_client.get(reverse("board")).content.decode()


def test_the_page_is_kept_for_figures_seconds_at_most(manager_client: Client) -> None:
    """A write no service told about (a shell, a raw SQL fix) shows within FIGURES_SECONDS."""
    from opportunities.views.figures import FIGURES_SECONDS

    deal(name="Harbour fit-out")
    kept: list[int | None] = []
    real_set = cache.set

    def spy(key: str, value: object, timeout: int | None = None, *args: Any, **kw: Any) -> None:
        if ":page:" in key:
            kept.append(timeout)
        real_set(key, value, timeout, *args, **kw)

    with patch.object(cache, "set", spy):
        manager_client.get(reverse("board"))
    assert kept == [FIGURES_SECONDS]


def test_a_new_conflict_shows_on_a_row_drawn_before(manager_client: Client) -> None:
    from opportunities.models import Conflict

    shown = deal(name="Harbour fit-out")
    assert "Conflict</span>" not in manager_client.get(reverse("board")).content.decode()
    Conflict.objects.create(
        opportunity=shown, field="probability", base_value=40, local_value=35, zoho_value=60
    )
    deals_changed()  # a conflict opens in a sync, whose end moves the data version
    assert "Conflict</span>" in manager_client.get(reverse("board")).content.decode()


def test_a_page_is_drawn_once_per_data_version_and_view(manager_client: Client) -> None:
    deal(name="Harbour fit-out")
    with CaptureQueriesContext(connection) as first:
        manager_client.get(reverse("board"))
    with CaptureQueriesContext(connection) as again:
        repeated = manager_client.get(reverse("board"))
    assert "Harbour fit-out" in repeated.content.decode()
    assert '<section id="board-results"' in repeated.content.decode()  # kept as HTML, unescaped
    assert not any("opportunities_opportunity" in q["sql"] for q in again.captured_queries)
    assert len(again) < len(first)
    # Another view, or the same one as an HTMX swap, is drawn on its own.
    swapped = manager_client.get(reverse("board"), headers={"HX-Request": "true"})
    assert swapped.content.decode().lstrip().startswith('<section id="board-results"')
    assert manager_client.get(reverse("board") + "?sort=name").context["page"] is not None


def test_search_can_be_answered_from_indexes_without_reading_every_deal() -> None:
    from django.http import QueryDict

    from opportunities.filters import DealFilter
    from opportunities.models import Opportunity

    deal(name="Changi Telecom - Data & AI")
    found = DealFilter(QueryDict("q=changi"), queryset=Opportunity.objects.live()).qs
    sql, params = found.values_list("pk", flat=True).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of test rows: force the choice
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for index in ("opp_name_trgm_idx", "opp_stage_trgm_idx", "opp_zoho_id_trgm_idx"):
        assert index in plan
    assert "Seq Scan on opportunities_opportunity" not in plan
