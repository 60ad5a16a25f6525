"""The small things users notice (#26): the way back to a filtered board, clean addresses,
money with separators, stages in the pipeline's order with their default probability, sync
buttons that follow the run, and whole pages for history restores."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from opportunities.models import CrmStage, ForecastType
from opportunities.tests.screens import deal
from opportunities.views.links import board_back_url, clean_query
from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/board/?q=jurong&page=2", "/board/?q=jurong&page=2"),
        ("/board/?q=&health=danger&owner=&page=1", "/board/?health=danger"),
        ("/board/", "/board/"),
        ("/board/?", "/board/"),
        ("https://evil.example/board/?q=x", None),
        ("//evil.example/board/", None),
        ("/\\evil.example/board/", None),
        ("/deals/5/", None),
        ("/board/../admin/", None),
        ("/board/#top", None),
        ("javascript:alert(1)", None),
        ("/board/?q=a\nb", None),
        ("", None),
        (None, None),
        ("/board/?q=" + "x" * 3000, None),
    ],
)
def test_the_breadcrumb_only_returns_to_the_boards_own_address(
    given: str | None, expected: str | None
) -> None:
    assert board_back_url(given) == expected


def test_a_shared_address_carries_only_the_filters_set() -> None:
    query = QueryDict(
        "q=&health=danger&health=warning&owner=&page=1&sort=&org.htmx.cache-buster=board-results"
    )
    assert clean_query(query) == "health=danger&health=warning"
    assert clean_query(QueryDict("page=3&sort=-amount_sgd")) == "page=3&sort=-amount_sgd"


def test_board_rows_lead_to_deals_that_lead_back_to_the_same_list(manager_client: Client) -> None:
    target = deal(name="Jurong fibre rollout", territory="Singapore")
    board = manager_client.get(reverse("board"), {"q": "jurong", "territory": "Singapore"})
    back = "/board/?q=jurong&territory=Singapore"
    deal_link = f"{reverse('deal', args=[target.pk])}?back={quote(back, safe='/')}"
    assert f'href="{deal_link}"' in board.content.decode()

    page = manager_client.get(deal_link)
    html = page.content.decode()
    assert '<a href="/board/?q=jurong&amp;territory=Singapore">Health board</a>' in html
    # The edit form keeps the way back, for the page it draws after saving.
    assert (
        f'action="/deals/{target.pk}/?back=%2Fboard%2F%3Fq%3Djurong%26territory%3DSingapore"'
        in html
    )

    foreign = manager_client.get(
        reverse("deal", args=[target.pk]), {"back": "https://evil.example/board/"}
    )
    assert '<a href="/board/">Health board</a>' in foreign.content.decode()
    assert "evil.example" not in foreign.content.decode()


def test_the_phone_filters_button_counts_the_filters_set(manager_client: Client) -> None:
    deal()
    plain = manager_client.get(reverse("board")).content.decode()
    assert 'aria-controls="board-filter-body">Filters</button>' in plain
    some = manager_client.get(reverse("board"), {"health": ["danger", "warning"], "q": "x"})
    assert 'aria-controls="board-filter-body">Filters <span class="count">1</span>' in (
        some.content.decode()
    )


def test_amounts_show_and_are_read_with_thousands_separators(manager_client: Client) -> None:
    target = deal(sgd="1234567.50")
    url = reverse("deal", args=[target.pk])
    fields = {f.name: f for f in manager_client.get(url).context["edit_fields"]}
    assert fields["amount"].value == "1,234,567.50"
    assert fields["amount"].money
    assert not fields["probability"].money

    posted = {f.name: f.value for f in fields.values()}
    unchanged = manager_client.post(url, posted, headers={"HX-Request": "true"})
    assert unchanged.status_code == 200
    assert "Nothing changed" in unchanged.content.decode()

    posted["amount"] = "2,500.50"
    saved = manager_client.post(url, posted, headers={"HX-Request": "true"})
    assert saved.status_code == 200
    target.refresh_from_db()
    assert target.amount == Decimal("2500.50")


def test_stages_are_offered_in_the_pipelines_order_with_their_probability(
    manager_client: Client,
) -> None:
    for name, probability, forecast in (
        ("Qualification", 10, ForecastType.OPEN),
        ("Needs Analysis", 20, ForecastType.OPEN),
        ("Value Proposition", 40, ForecastType.OPEN),
        ("Id. Decision Makers", 30, ForecastType.OPEN),
        ("Proposal/Price Quote", 75, ForecastType.OPEN),
        ("Closed Won", 100, ForecastType.CLOSED_WON),
    ):
        CrmStage.objects.create(name=name, probability=probability, forecast_type=forecast)
    target = deal(stage="Needs Analysis", probability=25)
    response = manager_client.get(reverse("deal", args=[target.pk]))
    stage = {f.name: f for f in response.context["edit_fields"]}["stage"]
    assert stage.choices[:7] == [
        "Qualification",
        "Needs Analysis",
        "Id. Decision Makers",  # phase 2 at 30% before Value Proposition at 40%
        "Value Proposition",
        "Proposal/Price Quote",
        "Negotiation/Review",
        "Closed Won",
    ]
    assert stage.choices[-2:] == ["Closed Lost", "Closed Lost to Competition"]
    html = response.content.decode()
    assert '<option value="Value Proposition" data-probability="40">' in html
    assert '<option value="Negotiation/Review">' in html  # no default known: none offered
    assert "data-stage-default hidden" in html


def test_zohos_own_stage_order_comes_first_where_its_pipeline_gives_one(
    manager_client: Client,
) -> None:
    for name, probability, sequence in (
        ("Qualification", 10, 1),
        ("Value Proposition", 40, 2),  # Zoho's order, whatever the probabilities say
        ("Needs Analysis", 20, 3),
        ("Closed Won", 100, 4),
    ):
        CrmStage.objects.create(
            name=name,
            probability=probability,
            sequence_number=sequence,
            forecast_type=ForecastType.CLOSED_WON if probability == 100 else ForecastType.OPEN,
        )
    target = deal(stage="Needs Analysis", probability=25)
    response = manager_client.get(reverse("deal", args=[target.pk]))
    stage = {f.name: f for f in response.context["edit_fields"]}["stage"]
    assert stage.choices[:4] == [
        "Qualification",
        "Value Proposition",
        "Needs Analysis",
        "Closed Won",
    ]
    assert stage.choices.index("Id. Decision Makers") > 3  # numbered by no one: after them


def _sync_page(client: Client, htmx: bool = False) -> str:
    headers = {"HX-Request": "true"} if htmx else {}
    return client.get(reverse("sync"), headers=headers).content.decode()


def test_sync_buttons_are_disabled_while_a_run_is_going(manager_client: Client) -> None:
    idle = _sync_page(manager_client)
    assert '<button type="submit" class="btn">Sync now</button>' in idle
    SyncRun.objects.create(kind=SyncKind.FULL, trigger=SyncTrigger.MANUAL)
    busy = _sync_page(manager_client)
    assert 'class="btn" disabled aria-describedby="sync-busy-note">Sync now' in busy
    assert 'class="btn btn-secondary" disabled aria-describedby="sync-busy-note">Full sync' in busy
    assert "A full sync is running" in busy
    # The live part swaps the buttons too, so they come back when the run ends.
    fragment = _sync_page(manager_client, htmx=True)
    assert 'id="sync-actions" hx-swap-oob="true"' in fragment
    SyncRun.objects.update(status=SyncStatus.SUCCEEDED)
    assert "disabled" not in _sync_page(manager_client, htmx=True).split("sync-live")[0]


def test_a_full_sync_is_labelled_as_one(manager_client: Client) -> None:
    SyncRun.objects.create(
        kind=SyncKind.FULL, trigger=SyncTrigger.SCHEDULE, status=SyncStatus.SUCCEEDED
    )
    SyncRun.objects.create(
        kind=SyncKind.INCREMENTAL, trigger=SyncTrigger.SCHEDULE, status=SyncStatus.FAILED
    )
    html = _sync_page(manager_client)
    assert '<span class="badge badge-info plain">Full sync</span>' in html
    assert "Incremental sync" in html


@pytest.mark.parametrize("name", ["board", "changes", "sync"])
def test_a_history_restore_gets_the_whole_page(manager_client: Client, name: str) -> None:
    deal()
    restore = manager_client.get(
        reverse(name), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    fragment = manager_client.get(reverse(name), headers={"HX-Request": "true"})
    assert "<html" in restore.content.decode()
    assert "<html" not in fragment.content.decode()
    for response in (restore, fragment):
        assert "HX-Request" in response["Vary"]
