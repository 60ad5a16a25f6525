"""Deals as an Excel workbook: the export columns, typed cells, written a row at a time.

openpyxl's write-only mode streams each row's XML to a temporary file on disk as it is
appended, and writes strings inline (no shared-strings table growing in memory), so the
workbook never holds the rows. Saving zips that file into the target. The download streams
the saved workbook from a spooled buffer in pieces.

Cells are typed: amounts are numbers shown with two decimals, dates are dates, date-times
are Singapore times (Excel has no time zones), and text is always text, so a value from the
CRM that starts with "=" is shown, never run as a formula.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from opportunities.exports import EXPORT_COLUMNS, CellKind, Column, opportunity_export_values
from opportunities.models import Opportunity

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_TITLE = "Deals"
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# The saved workbook stays in memory up to this size, then moves to a temporary file.
SPOOL_BYTES = 1024 * 1024
XLSX_PIECE_BYTES = 64 * 1024

# Widths in characters: wide enough for typical values, the header always fits.
_WIDTH_BY_KIND = {
    CellKind.TEXT: 18,
    CellKind.NUMBER: 12,
    CellKind.MONEY: 16,
    CellKind.DATE: 12,
    CellKind.DATETIME: 17,
}
_WIDTH_BY_HEADER = {
    "zoho_id": 21,
    "name": 42,
    "account": 30,
    "owner": 22,
    "owner_email": 34,
    "stage": 26,
    "health_reasons": 60,
}


def column_title(column: Column) -> str:
    """The Excel header: the column's label, saying so when a time is Singapore time."""
    if column.kind is CellKind.DATETIME:
        return f"{column.title} (SGT)"
    return column.title


def column_width(column: Column) -> int:
    width = _WIDTH_BY_HEADER.get(column.header, _WIDTH_BY_KIND[column.kind])
    return max(width, len(column_title(column)) + 2)


def _styled(sheet: WriteOnlyWorksheet, value: Any, number_format: str) -> Cell:
    cell = WriteOnlyCell(sheet)
    cell.value = value
    cell.number_format = number_format
    return cell


def _text_cell(sheet: WriteOnlyWorksheet, value: str) -> str | Cell:
    # Control characters cannot be stored in a worksheet; a CRM value may carry them.
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if text.startswith("=") or text in ERROR_CODES:
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"  # openpyxl would otherwise store a formula or an error
        return cell
    return text


def _cell(sheet: WriteOnlyWorksheet, value: Any, kind: CellKind) -> Any:
    if value is None:
        return None
    if kind is CellKind.MONEY and isinstance(value, Decimal):
        return _styled(sheet, value, MONEY_FORMAT)
    if kind is CellKind.DATETIME and isinstance(value, datetime):
        return _styled(sheet, timezone.localtime(value).replace(tzinfo=None), DATETIME_FORMAT)
    if kind is CellKind.DATE and isinstance(value, date):
        return _styled(sheet, value, DATE_FORMAT)
    if isinstance(value, str):
        return _text_cell(sheet, value)
    return value  # ints and rates: numbers in Excel's General format


def _discard(sheet: WriteOnlyWorksheet) -> None:
    """After a failure: remove the temporary file openpyxl streams the rows to.

    openpyxl removes it when the workbook is saved, and otherwise only at interpreter exit;
    a web worker runs for weeks.
    """
    writer = getattr(sheet, "_writer", None)
    if writer is None:
        return
    try:
        if not sheet.closed:
            sheet.close()
        writer.cleanup()
    except OSError:
        pass  # a leftover temporary file is not worth hiding the original error


def opportunities_write_xlsx(deals: QuerySet[Opportunity], target: str | Path | IO[bytes]) -> int:
    """Write the deals as an .xlsx workbook to a path or binary file; returns the deal count."""
    workbook = Workbook(write_only=True)
    sheet: WriteOnlyWorksheet = workbook.create_sheet(SHEET_TITLE)
    # Set before the first row: a write-only sheet writes its layout ahead of the rows.
    sheet.freeze_panes = "A2"
    # A write-only sheet has column dimensions (openpyxl's stubs miss them).
    widths = sheet.column_dimensions  # type: ignore[attr-defined]
    for index, column in enumerate(EXPORT_COLUMNS, start=1):
        widths[get_column_letter(index)].width = column_width(column)
    bold = Font(bold=True)
    header = []
    for column in EXPORT_COLUMNS:
        cell = WriteOnlyCell(sheet, value=column_title(column))
        cell.font = bold
        header.append(cell)
    kinds = [column.kind for column in EXPORT_COLUMNS]
    count = 0
    try:
        sheet.append(header)
        for values in opportunity_export_values(deals):
            sheet.append([_cell(sheet, v, k) for v, k in zip(values, kinds, strict=True)])
            count += 1
        workbook.save(target)
    except BaseException:
        _discard(sheet)
        raise
    return count


def opportunities_xlsx_pieces(
    deals: QuerySet[Opportunity], *, piece_bytes: int = XLSX_PIECE_BYTES
) -> Iterator[bytes]:
    """The deals as an .xlsx workbook, in pieces for a streamed download.

    A zip archive is complete only once written (its directory comes last), so the workbook
    is saved first, to a buffer that moves to a temporary file past SPOOL_BYTES, then sent a
    piece at a time; the buffer is deleted when the download ends or is abandoned.
    """
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        opportunities_write_xlsx(deals, spool)
        spool.seek(0)
        while piece := spool.read(piece_bytes):
            yield piece
