"""The Excel workbook is written as it is sent: valid, typed, and never whole in memory."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from lxml import etree
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from opportunities.exports import EXPORT_COLUMNS, HEADERS
from opportunities.exports_xlsx import _archive_pieces, column_title

WIDTH = len(EXPORT_COLUMNS)
NAME = HEADERS.index("name")
AMOUNT_SGD = HEADERS.index("amount_sgd")
CLOSING = HEADERS.index("closing_date")
MODIFIED = HEADERS.index("zoho_modified_time")
PROBABILITY = HEADERS.index("probability")


def row(**values: Any) -> list[Any]:
    cells: list[Any] = [None] * WIDTH
    for header, value in values.items():
        cells[HEADERS.index(header)] = value
    return cells


class Rows:
    """Rows handed out one by one, counting how many were taken and whether it was closed."""

    def __init__(self, count: int) -> None:
        self.count, self.taken, self.closed = count, 0, False

    def __iter__(self) -> Iterator[list[Any]]:
        return self

    def __next__(self) -> list[Any]:
        if self.taken == self.count:
            raise StopIteration
        self.taken += 1
        # Names that compress about as badly as real ones do.
        noise = hashlib.sha256(str(self.taken).encode()).hexdigest()
        return row(zoho_id=f"Z{self.taken:06d}", name=f"Deal {self.taken} {noise}")

    def close(self) -> None:
        self.closed = True


def workbook(rows: list[list[Any]]) -> Any:
    return load_workbook(io.BytesIO(b"".join(_archive_pieces(rows, 64 * 1024))))["Deals"]


def test_the_first_piece_leaves_before_the_last_row_is_read() -> None:
    rows = Rows(5_000)
    pieces = _archive_pieces(rows, 16 * 1024)
    first = next(pieces)
    assert first.startswith(b"PK")
    assert rows.taken < rows.count
    rest = b"".join(pieces)
    assert rows.taken == rows.count
    sheet = load_workbook(io.BytesIO(first + rest))["Deals"]
    assert sheet.max_row == 5_001
    assert sheet.cell(row=5_001, column=1).value == "Z005000"


def test_no_piece_holds_the_whole_sheet() -> None:
    sizes = [len(piece) for piece in _archive_pieces(Rows(5_000), 16 * 1024)]
    assert len(sizes) > 5
    assert max(sizes) < sum(sizes) / 5


def test_an_abandoned_download_closes_its_rows() -> None:
    rows = Rows(5_000)
    pieces = _archive_pieces(rows, 1024)
    next(pieces)
    pieces.close()
    assert rows.closed
    assert rows.taken < rows.count


def test_every_part_is_well_formed_xml_and_the_parts_are_those_excel_needs() -> None:
    archive = zipfile.ZipFile(io.BytesIO(b"".join(_archive_pieces(Rows(3), 1024))))
    assert archive.testzip() is None  # every part's checksum holds
    names = set(archive.namelist())
    assert {
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        "xl/worksheets/sheet1.xml",
    } <= names
    for name in names:
        etree.fromstring(archive.read(name))  # raises on malformed XML


def test_cells_are_typed_and_text_is_kept_exactly() -> None:
    sheet = workbook(
        [
            row(
                name=" <Tan & Sons> ",
                stage="=SUM(A1:A9)",
                amount_sgd=Decimal("1234567.89"),
                probability=40,
                closing_date=date(2026, 12, 31),
                zoho_modified_time=datetime(2026, 3, 4, 17, 30, tzinfo=UTC),
            ),
            row(name="Bell\x07 deal", amount_sgd=Decimal("NaN"), fx_rate=float("inf")),
        ]
    )
    assert [cell.value for cell in sheet[1]] == [column_title(c) for c in EXPORT_COLUMNS]
    assert all(cell.font.bold for cell in sheet[1])
    first = list(sheet[2])
    assert first[NAME].value == " <Tan & Sons> "  # escaped, spaces preserved
    assert first[HEADERS.index("stage")].value == "=SUM(A1:A9)"
    assert first[HEADERS.index("stage")].data_type == "s"  # text, never a formula
    assert first[AMOUNT_SGD].value == 1234567.89
    assert first[AMOUNT_SGD].number_format == "#,##0.00"
    assert first[PROBABILITY].value == 40
    assert first[CLOSING].value == datetime(2026, 12, 31, tzinfo=UTC).replace(tzinfo=None)
    assert first[CLOSING].is_date
    assert first[MODIFIED].value == datetime(2026, 3, 5, 1, 30, tzinfo=UTC).replace(
        tzinfo=None
    )  # SGT
    assert first[HEADERS.index("account")].value is None  # no value, no cell
    second = list(sheet[3])
    assert second[NAME].value == "Bell deal"  # a control character cannot be stored
    assert second[AMOUNT_SGD].value == "NaN"  # said as it is, never a wrong number
    assert second[HEADERS.index("fx_rate")].value == "inf"
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width >= 40


def test_the_header_row_carries_excels_filter_buttons() -> None:
    sheet = workbook([row(name="Jurong fibre rollout"), row(name="Penang data centre")])
    last = get_column_letter(WIDTH)
    assert sheet.auto_filter.ref == f"A1:{last}1"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(_archive_pieces(Rows(1), 1024))))
    names = etree.fromstring(archive.read("xl/workbook.xml")).findall(".//{*}definedName")
    assert [(n.get("name"), n.text) for n in names] == [
        ("_xlnm._FilterDatabase", f"'Deals'!$A$1:${last}$1")
    ]
