"""The board's CSV and Excel downloads: the filtered board exactly, streamed, in scope."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.http import QueryDict
from django.test import AsyncClient, Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from opportunities.exports import EXPORT_COLUMNS, HEADERS
from opportunities.exports_xlsx import MONEY_FORMAT, column_title
from opportunities.models import Opportunity
from opportunities.tests.factories import CrmUserFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

EXPORTS = ("board_export_csv", "board_export_xlsx")
AMOUNT_SGD = HEADERS.index("amount_sgd")


def _board(client: Client, query: str) -> list[Opportunity]:
    """The deals the health board shows for this query, walked page by page in its order."""
    params = QueryDict(query, mutable=True)
    params.pop("page", None)
    shown: list[Opportunity] = []
    for number in range(1, 100):
        params["page"] = str(number)
        page = client.get(f"{reverse('board')}?{params.urlencode()}").context["page"]
        shown.extend(page.object_list)
        if not page.has_next():
            return shown
    raise AssertionError("the board never ended")


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def _csv_rows(response: Any) -> list[dict[str, str]]:
    body = _body(response).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def _xlsx_rows(response: Any) -> tuple[Any, list[tuple[Any, ...]]]:
    workbook = load_workbook(io.BytesIO(_body(response)))
    sheet = workbook["Deals"]
    return sheet, list(sheet.iter_rows(values_only=True))


def _varied_deals(count: int) -> None:
    today = timezone.localdate()
    for index in range(count):
        OpportunityFactory.create(
            health_status=("danger", "warning", "success", "neutral")[index % 4],
            closing_date=today + timedelta(days=(index * 7) % 90 - 20),
            amount_sgd=Decimal(f"{1000 + index * 37}.{index % 100:02d}"),
            territory="Singapore" if index % 3 else "India",
        )


@pytest.fixture
def deals() -> None:
    # More than a page of the board (50): the export has every page. Lost deals are off the
    # board's default view, and so off the default export.
    _varied_deals(64)
    OpportunityFactory.create_batch(
        3, outcome="lost", health_status="neutral", amount_sgd=Decimal("900.00")
    )


@pytest.mark.parametrize(
    "query",
    ["", "health=danger&health=warning", "sort=-amount_sgd", "page=2", "outcome=lost"],
)
def test_the_csv_is_the_filtered_board_in_its_order(
    manager_client: Client, deals: None, query: str
) -> None:
    response = manager_client.get(f"{reverse('board_export_csv')}?{query}")
    assert response.status_code == 200
    assert response.streaming
    rows = _csv_rows(response)
    board = _board(manager_client, query)
    assert len(rows) == len(board) > 0
    assert [row["zoho_id"] for row in rows] == [deal.zoho_id for deal in board]
    assert [Decimal(row["amount_sgd"]) for row in rows] == [deal.amount_sgd for deal in board]
    assert list(rows[0]) == list(HEADERS)


@pytest.mark.parametrize("query", ["", "territory=India&sort=-closing_date"])
def test_the_workbook_is_the_filtered_board_with_typed_cells(
    manager_client: Client, deals: None, query: str
) -> None:
    response = manager_client.get(f"{reverse('board_export_xlsx')}?{query}")
    assert response.status_code == 200
    sheet, rows = _xlsx_rows(response)
    header, body = rows[0], rows[1:]
    board = _board(manager_client, query)
    assert header == tuple(column_title(column) for column in EXPORT_COLUMNS)
    assert "Amount (SGD)" in header
    assert [row[0] for row in body] == [deal.zoho_id for deal in board]
    # Numbers (not text), to the cent.
    amounts = [row[AMOUNT_SGD] for row in body]
    assert all(isinstance(amount, int | float) for amount in amounts)
    assert [Decimal(str(amount)).quantize(Decimal("0.01")) for amount in amounts] == [
        deal.amount_sgd for deal in board
    ]
    closing = HEADERS.index("closing_date")
    assert [row[closing].date() for row in body] == [deal.closing_date for deal in board]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.cell(row=2, column=AMOUNT_SGD + 1).number_format == MONEY_FORMAT
    assert sheet.cell(row=2, column=closing + 1).is_date
    assert sheet.column_dimensions["B"].width >= 40  # the deal name


def test_downloads_are_attachments_named_by_the_day(manager_client: Client) -> None:
    day = timezone.localdate().isoformat()
    for name, extension, content_type in (
        ("board_export_csv", "csv", "text/csv; charset=utf-8"),
        ("board_export_xlsx", "xlsx", "application/vnd.openxmlformats"),
    ):
        response = manager_client.get(reverse(name))
        assert response["Content-Disposition"] == (
            f'attachment; filename="pipeline-pulse-deals-{day}.{extension}"'
        )
        assert response["Content-Type"].startswith(content_type)
        assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("name", EXPORTS)
def test_a_rep_exports_only_their_own_deals(rep_client: Client, name: str) -> None:
    mine = CrmUserFactory.create(email="Rep@Example.com")
    OpportunityFactory.create_batch(2, owner=mine)
    OpportunityFactory.create_batch(3)
    OpportunityFactory.create(owner=mine, is_deleted=True)
    response = rep_client.get(reverse(name))
    if name == "board_export_csv":
        ids = [row["zoho_id"] for row in _csv_rows(response)]
    else:
        ids = [row[0] for row in _xlsx_rows(response)[1][1:]]
    expected = Opportunity.objects.filter(owner=mine, is_deleted=False)
    assert sorted(ids) == sorted(expected.values_list("zoho_id", flat=True))


@pytest.mark.parametrize("name", EXPORTS)
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("closing_from=2026-13-01", "closing_from"),
        ("currency=DOLLARS", "currency"),
        ("closing=someday", "closing"),
        ("closing=custom&closing_from=2026-06-10&closing_to=2026-06-01", "closing_to"),
        ("sort=password", "sort"),
    ],
)
def test_invalid_filters_are_a_400_that_says_why(
    manager_client: Client, name: str, query: str, field: str
) -> None:
    response = manager_client.get(f"{reverse(name)}?{query}")
    assert response.status_code == 400
    assert not response.streaming
    text = response.content.decode()
    assert text.startswith("Nothing was exported: the board's filters are not valid.")
    assert f"- {field}: " in text


@pytest.mark.parametrize("name", EXPORTS)
def test_anonymous_is_sent_to_login(client: Client, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", EXPORTS)
def test_queries_do_not_grow_with_rows(
    manager_client: Client, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chunks of 4 rows: 40 deals are 10 chunks of one cursor, not 10 queries.
    monkeypatch.setattr("opportunities.exports.EXPORT_CHUNK_SIZE", 4)
    _varied_deals(3)
    manager_client.get(reverse(name))  # warm the session and the role cache

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            _body(manager_client.get(reverse(name)))
        return len(captured)

    few = queries()
    _varied_deals(37)
    assert queries() == few


def test_under_asgi_the_download_is_an_async_stream_of_the_same_bytes(
    manager_client: Client, deals: None
) -> None:
    url = f"{reverse('board_export_csv')}?health=danger"
    expected = _body(manager_client.get(url))

    async def download() -> tuple[bool, bytes]:
        client = AsyncClient()
        await client.aforce_login(manager_client.user)  # type: ignore[attr-defined]
        response: Any = await client.get(url)
        return response.is_async, b"".join([piece async for piece in response.streaming_content])

    # Run from this thread: the view's database work comes back to it (thread-sensitive),
    # inside the test's transaction.
    is_async, body = async_to_sync(download)()
    assert is_async
    assert body == expected


def test_text_from_the_crm_stays_text_in_excel(manager_client: Client) -> None:
    formula = '=HYPERLINK("http://evil.example","Click")'
    OpportunityFactory.create(name=formula, stage="#N/A", amount_sgd=Decimal("1.00"))
    OpportunityFactory.create(name="Bell\x07 deal", amount_sgd=Decimal("999999999999.99"))
    sheet, rows = _xlsx_rows(manager_client.get(f"{reverse('board_export_xlsx')}?sort=amount_sgd"))
    name = HEADERS.index("name")
    assert [row[name] for row in rows[1:]] == [formula, "Bell deal"]
    assert sheet.cell(row=2, column=name + 1).data_type == "s"  # not a formula
    assert rows[1][HEADERS.index("stage")] == "#N/A"  # not an error value
    assert Decimal(str(rows[2][AMOUNT_SGD])) == Decimal("999999999999.99")


def test_crm_text_is_never_a_formula_in_the_csv_and_numbers_stay_numbers(
    manager_client: Client,
) -> None:
    names = [
        '=HYPERLINK("http://evil.example","Click")',
        "+SUM(1)",
        "-2+3",
        "@cmd",
        "\tTab",
        "\rReturn",
        "\uff1dfull width",
        "-12.5",  # a plain number: a value, not a formula
        "Müller & Søn",
    ]
    for index, name in enumerate(names):
        OpportunityFactory.create(
            name=name, amount=Decimal(f"{index}.50"), amount_sgd=Decimal(f"{index}.25")
        )
    rows = _csv_rows(manager_client.get(f"{reverse('board_export_csv')}?sort=amount_sgd"))
    assert [row["name"] for row in rows] == [
        '\'=HYPERLINK("http://evil.example","Click")',
        "'+SUM(1)",
        "'-2+3",
        "'@cmd",
        "'\tTab",
        "'\rReturn",
        "'\uff1dfull width",
        "-12.5",
        "Müller & Søn",
    ]
    assert [row["amount"] for row in rows] == [f"{index}.50" for index in range(len(names))]


def test_the_csv_download_starts_with_a_bom_for_excel_unless_asked_not_to(
    manager_client: Client,
) -> None:
    OpportunityFactory.create(name="Café Ñandú", outcome="lost")
    url = reverse("board_export_csv")
    with_bom = _body(manager_client.get(url))
    without = _body(manager_client.get(f"{url}?bom=0"))
    assert with_bom.startswith("\ufeffzoho_id,".encode())
    assert without.startswith(b"zoho_id,")
    assert with_bom[3:] == without  # the same rows: `bom` is no filter (lost deals stay out)
    assert "Café Ñandú" not in without.decode()
    refused = manager_client.get(f"{url}?bom=yes")
    assert refused.status_code == 400
    assert "bom must be 0 or 1" in refused.content.decode()


def test_a_datetime_is_the_singapore_wall_clock_in_excel(manager_client: Client) -> None:
    OpportunityFactory.create(
        zoho_modified_time=datetime(2026, 3, 4, 17, 30, tzinfo=UTC),
        fx_rate_as_of=datetime(2026, 3, 4, 17, 30, tzinfo=UTC),
        kickoff_on=date(2026, 3, 4),
    )
    _, rows = _xlsx_rows(manager_client.get(reverse("board_export_xlsx")))
    header, row = rows[0], rows[1]
    # Excel has no time zones: the cells hold Singapore wall-clock times, read back naive.
    wall_clock = datetime(2026, 3, 5, 1, 30, tzinfo=UTC).replace(tzinfo=None)
    assert row[header.index("Modified in Zoho (SGT)")] == wall_clock
    assert row[HEADERS.index("fx_rate_date")].date() == date(2026, 3, 5)
    assert row[HEADERS.index("kickoff_on")].date() == date(2026, 3, 4)
