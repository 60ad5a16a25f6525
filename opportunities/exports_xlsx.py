"""Deals as an Excel workbook: the export columns, typed cells, streamed as they are written.

The workbook is written as it is sent. An .xlsx file is a zip archive of XML parts; the
worksheet's rows are turned into SpreadsheetML a chunk at a time and compressed into the
archive as they come (the standard library's zipfile writes to a stream it cannot seek,
putting each part's sizes after its data), and what the archive has so far is handed on as a
piece of the download. The first bytes leave after the first rows, memory holds one piece,
and no temporary file is written. openpyxl, which the first version used, writes every row
to a temporary file and zips it only at the end: a large board sent nothing for longer than a
proxy's usual read timeout (docs/benchmarks.md has the figures).

Cells are typed: amounts are numbers shown with two decimals, dates are dates, date-times
are Singapore times (Excel has no time zones), and text is always text: it is written as an
inline string, which Excel never reads as a formula or an error value, so a value from the
CRM that starts with "=" is shown, never run.
"""

from __future__ import annotations

import html
import math
import zipfile
from collections.abc import Generator, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

from opportunities.exports import EXPORT_COLUMNS, CellKind, Column, opportunity_export_values
from opportunities.models import Opportunity

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_TITLE = "Deals"
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# Rows turned into XML before they are compressed, and the least the archive gathers before
# it is sent as a piece of the download.
ROWS_PER_CHUNK = 500
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

# Cell styles, by their index in styles.xml's cellXfs.
_HEADER_STYLE = 1
_STYLE_BY_KIND = {CellKind.MONEY: 2, CellKind.DATE: 3, CellKind.DATETIME: 4}


def column_title(column: Column) -> str:
    """The Excel header: the column's label, saying so when a time is Singapore time."""
    if column.kind is CellKind.DATETIME:
        return f"{column.title} (SGT)"
    return column.title


def column_width(column: Column) -> int:
    width = _WIDTH_BY_HEADER.get(column.header, _WIDTH_BY_KIND[column.kind])
    return max(width, len(column_title(column)) + 2)


# --- The parts around the rows ----------------------------------------------------------------

_OOXML = "http://schemas.openxmlformats.org"
_MAIN_NS = f"{_OOXML}/spreadsheetml/2006/main"
_REL_NS = f"{_OOXML}/officeDocument/2006/relationships"
_PKG_REL_NS = f"{_OOXML}/package/2006/relationships"
_OFFICE_TYPE = "application/vnd.openxmlformats-officedocument"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _override(part: str, content_type: str) -> str:
    return f'<Override PartName="{part}" ContentType="{content_type}"/>'


def _relationships(*targets: tuple[str, str]) -> str:
    """A .rels part: each target with the relationship type it stands in."""
    return (
        _XML
        + f'<Relationships xmlns="{_PKG_REL_NS}">'
        + "".join(
            f'<Relationship Id="rId{number}" Type="{kind}" Target="{target}"/>'
            for number, (kind, target) in enumerate(targets, start=1)
        )
        + "</Relationships>"
    )


_CONTENT_TYPES = (
    _XML
    + f'<Types xmlns="{_OOXML}/package/2006/content-types">'
    + '<Default Extension="rels" '
    + 'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    + '<Default Extension="xml" ContentType="application/xml"/>'
    + _override("/xl/workbook.xml", f"{_OFFICE_TYPE}.spreadsheetml.sheet.main+xml")
    + _override("/xl/worksheets/sheet1.xml", f"{_OFFICE_TYPE}.spreadsheetml.worksheet+xml")
    + _override("/xl/styles.xml", f"{_OFFICE_TYPE}.spreadsheetml.styles+xml")
    + _override("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml")
    + _override("/docProps/app.xml", f"{_OFFICE_TYPE}.extended-properties+xml")
    + "</Types>"
)
_PACKAGE_RELS = _relationships(
    (f"{_REL_NS}/officeDocument", "xl/workbook.xml"),
    (f"{_PKG_REL_NS}/metadata/core-properties", "docProps/core.xml"),
    (f"{_REL_NS}/extended-properties", "docProps/app.xml"),
)
_APP_PROPERTIES = (
    _XML
    + f'<Properties xmlns="{_OOXML}/officeDocument/2006/extended-properties">'
    + "<Application>Pipeline Pulse</Application></Properties>"
)
_WORKBOOK = (
    _XML
    + f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
    + "<bookViews><workbookView/></bookViews>"
    + f'<sheets><sheet name="{SHEET_TITLE}" sheetId="1" r:id="rId1"/></sheets>'
    + "</workbook>"
)
_WORKBOOK_RELS = _relationships(
    (f"{_REL_NS}/worksheet", "worksheets/sheet1.xml"),
    (f"{_REL_NS}/styles", "styles.xml"),
)
# cellXfs: 0 plain, 1 the bold header, 2 money (built-in format 4 is MONEY_FORMAT), 3 a
# date, 4 a date and time.
_STYLES = (
    _XML + f'<styleSheet xmlns="{_MAIN_NS}">'
    f'<numFmts count="2"><numFmt numFmtId="164" formatCode="{DATE_FORMAT}"/>'
    f'<numFmt numFmtId="165" formatCode="{DATETIME_FORMAT}"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _core_properties() -> str:
    created = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        _XML + "<cp:coreProperties"
        ' xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:title>Pipeline Pulse deals</dc:title><dc:creator>Pipeline Pulse</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{created}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def _sheet_head(columns: Sequence[Column]) -> str:
    """Everything before the rows: the frozen header row and the column widths."""
    widths = "".join(
        f'<col min="{index}" max="{index}" width="{column_width(column)}" customWidth="1"/>'
        for index, column in enumerate(columns, start=1)
    )
    return (
        _XML + f'<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
        "</sheetView></sheetViews>"
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{widths}</cols><sheetData>"
    )


_SHEET_TAIL = "</sheetData></worksheet>"


# --- The rows ---------------------------------------------------------------------------------


def _text(reference: str, value: str, style: int = 0) -> str:
    # Control characters cannot be stored in a worksheet; a CRM value may carry them.
    # &, < and > escaped: the text of an XML element (no attribute value) needs no more.
    text = html.escape(ILLEGAL_CHARACTERS_RE.sub("", value), quote=False)
    styled = f' s="{style}"' if style else ""
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{reference}"{styled} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _number(reference: str, number: str, style: int) -> str:
    styled = f' s="{style}"' if style else ""
    return f'<c r="{reference}"{styled}><v>{number}</v></c>'


def _cell(reference: str, value: Any, kind: CellKind) -> str:
    """One cell's XML; an empty string for no value (the cell is left out)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _text(reference, value)
    if isinstance(value, bool):  # before int: a bool is one
        return f'<c r="{reference}" t="b"><v>{int(value)}</v></c>'
    style = _STYLE_BY_KIND.get(kind, 0)
    if isinstance(value, datetime):
        wall_clock = timezone.localtime(value).replace(tzinfo=None) if value.tzinfo else value
        return _number(reference, repr(to_excel(wall_clock)), style)
    if isinstance(value, date):
        return _number(reference, repr(to_excel(value)), style)
    if isinstance(value, Decimal):
        if not value.is_finite():  # NaN has no place in a number cell: say what it was
            return _text(reference, str(value))
        return _number(reference, format(value, "f"), style)
    if isinstance(value, float) and not math.isfinite(value):
        return _text(reference, str(value))
    if isinstance(value, int | float):
        return _number(reference, repr(value), style)
    return _text(reference, str(value))


def _rows_xml(rows: Iterable[list[Any]], columns: Sequence[Column]) -> Generator[str]:
    """The header row, then one row per deal, as SpreadsheetML, a chunk of rows at a time."""
    letters = [get_column_letter(index) for index in range(1, len(columns) + 1)]
    kinds = [column.kind for column in columns]
    header = "".join(
        _text(f"{letter}1", column_title(column), _HEADER_STYLE)
        for letter, column in zip(letters, columns, strict=True)
    )
    chunk = [f'<row r="1">{header}</row>']
    number = 1
    for values in rows:
        number += 1
        cells = "".join(
            _cell(f"{letter}{number}", value, kind)
            for letter, value, kind in zip(letters, values, kinds, strict=True)
        )
        chunk.append(f'<row r="{number}">{cells}</row>')
        if len(chunk) >= ROWS_PER_CHUNK:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


# --- The archive ------------------------------------------------------------------------------


class _Pieces:
    """A stream zipfile writes to without seeking: it gathers what is written until taken."""

    def __init__(self) -> None:
        self._written = bytearray()
        self._position = 0

    def write(self, data: bytes) -> int:
        self._written += data
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass  # what was written is taken as pieces; there is nothing to release

    def take(self, at_least: int = 0) -> bytes | None:
        """What was written since the last piece, once there is `at_least` that much."""
        if not self._written or len(self._written) < at_least:
            return None
        piece = bytes(self._written)
        self._written.clear()
        return piece


def _archive_pieces(
    rows: Iterable[list[Any]], piece_bytes: int, columns: Sequence[Column] = EXPORT_COLUMNS
) -> Generator[bytes]:
    pieces = _Pieces()
    # zipfile finds it cannot seek (no seek method) and writes data descriptors.
    with zipfile.ZipFile(pieces, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, text in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _PACKAGE_RELS),
            ("docProps/app.xml", _APP_PROPERTIES),
            ("docProps/core.xml", _core_properties()),
            ("xl/workbook.xml", _WORKBOOK),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            ("xl/styles.xml", _STYLES),
        ):
            zf.writestr(name, text)
        chunks = _rows_xml(rows, columns)
        try:
            with zf.open("xl/worksheets/sheet1.xml", "w") as sheet:
                sheet.write(_sheet_head(columns).encode())
                for xml in chunks:
                    sheet.write(xml.encode())
                    if (piece := pieces.take(piece_bytes)) is not None:
                        yield piece
                sheet.write(_SHEET_TAIL.encode())
        finally:
            # A download abandoned half-way: its database cursor is released now, in this
            # thread, not whenever the collector finds it.
            chunks.close()
            if (close := getattr(rows, "close", None)) is not None:
                close()
    if (piece := pieces.take()) is not None:
        yield piece  # the rest of the sheet, and the archive's directory


def opportunities_xlsx_pieces(
    deals: QuerySet[Opportunity], *, piece_bytes: int = XLSX_PIECE_BYTES
) -> Iterator[bytes]:
    """The deals as an .xlsx workbook, in pieces for a streamed download, written as sent."""
    return _archive_pieces(opportunity_export_values(deals), piece_bytes)


def table_xlsx_pieces(columns: Sequence[Column], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """Any small table (a forecast, a waterfall) as an .xlsx workbook: the same cells, styles
    and header as the deal export; values typed by each column's kind."""
    return _archive_pieces(rows, XLSX_PIECE_BYTES, columns)


def opportunities_write_xlsx(deals: QuerySet[Opportunity], target: str | Path | IO[bytes]) -> int:
    """Write the deals as an .xlsx workbook to a path or binary file; returns the deal count."""
    count = 0

    def counted(rows: Iterable[list[Any]]) -> Iterator[list[Any]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    pieces = _archive_pieces(counted(opportunity_export_values(deals)), XLSX_PIECE_BYTES)
    if isinstance(target, str | Path):
        with Path(target).open("wb") as stream:
            for piece in pieces:
                stream.write(piece)
    else:
        for piece in pieces:
            target.write(piece)
    return count
