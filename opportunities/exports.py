"""Deals as flat rows for exports; the command, the board's CSV and Excel downloads share it.

The columns derive from the field catalogue (every CRM field, in catalogue order), with what
Pipeline Pulse computes placed beside the field it is computed from. Each column carries its
header and how its value is read and shown, so the two can never drift apart.
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from django.db.models import QuerySet
from django.utils import timezone

from opportunities.deal_fields import CRM_FIELDS, DealField, FieldKind
from opportunities.models import HealthStatus, Opportunity, Outcome, Phase

# Rows fetched from the database at a time (one server-side cursor on PostgreSQL, so one
# query however many chunks): memory stays flat however many deals are exported.
EXPORT_CHUNK_SIZE = 2000
# A streamed CSV download is sent in pieces of about this size, not a row at a time.
CSV_PIECE_BYTES = 64 * 1024


class CellKind(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"  # Decimal or int, exported as a number
    MONEY = "money"  # a Decimal amount in cents, exported as a number with 2 decimals
    DATE = "date"
    DATETIME = "datetime"  # shown in Singapore time


@dataclass(frozen=True, slots=True)
class Column:
    """One export column: its header, the value it reads and how that value is shown."""

    header: str  # the CSV header: stable, machine-friendly
    path: str  # a `values()` lookup on Opportunity
    kind: CellKind = CellKind.TEXT
    # Turns the stored value into the exported one (a label, a joined list, a date).
    convert: Callable[[Any], Any] | None = None
    label: str = ""  # the Excel header, for people; the CSV header when empty

    @property
    def title(self) -> str:
        return self.label or self.header

    def value(self, row: Mapping[str, Any]) -> Any:
        raw = row[self.path]
        return self.convert(raw) if self.convert is not None and raw is not None else raw


def _reasons(reasons: list[dict[str, str]]) -> str:
    return "; ".join(reason.get("message", "") for reason in reasons)


def _local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


_KIND_OF_FIELD = {
    FieldKind.PERCENT: CellKind.NUMBER,
    FieldKind.MONEY: CellKind.MONEY,
    FieldKind.RATE: CellKind.NUMBER,
    FieldKind.DATE: CellKind.DATE,
    FieldKind.DATETIME: CellKind.DATETIME,
}

# What Pipeline Pulse computes, placed after the CRM field it follows from.
_COMPUTED_AFTER: Mapping[str, tuple[Column, ...]] = {
    "stage": (
        Column("phase", "phase", convert=lambda value: Phase(value).label, label="Phase"),
        Column("outcome", "outcome", convert=lambda value: Outcome(value).label, label="Outcome"),
        Column(
            "health",
            "health_status",
            convert=lambda value: HealthStatus(value).label,
            label="Health",
        ),
        Column("health_reasons", "health_reasons", convert=_reasons, label="Health reasons"),
    ),
    "currency": (
        Column("amount_sgd", "amount_sgd", CellKind.MONEY, label="Amount (SGD)"),
        Column("fx_rate", "fx_rate", CellKind.NUMBER, label="FX rate (SGD per unit)"),
        Column(
            "fx_rate_date",
            "fx_rate_as_of",
            CellKind.DATE,
            convert=_local_date,
            label="FX rate date",
        ),
        Column("fx_rate_source", "fx_rate_source", label="FX rate source"),
    ),
    "closing_date": (
        Column(
            "closing_date_push_count",
            "closing_date_push_count",
            CellKind.NUMBER,
            label="Closing date pushes",
        ),
    ),
}


def _columns_of(field: DealField) -> tuple[Column, ...]:
    if field.kind is FieldKind.ACCOUNT:
        return (Column(field.name, "account__name", label=field.label),)
    if field.kind is FieldKind.OWNER:
        return (
            Column(field.name, "owner__name", label=field.label),
            Column("owner_email", "owner__email", label=f"{field.label} e-mail"),
        )
    # The deal's own amount is in its currency; "Amount (SGD)" sits beside it.
    label = f"{field.label} (deal currency)" if field.kind is FieldKind.MONEY else field.label
    kind = _KIND_OF_FIELD.get(field.kind, CellKind.TEXT)
    return (Column(field.name, field.name, kind, label=label),)


EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("zoho_id", "zoho_id", label="Zoho ID"),
    *(
        column
        for field in CRM_FIELDS
        for column in (*_columns_of(field), *_COMPUTED_AFTER.get(field.name, ()))
    ),
)
HEADERS: tuple[str, ...] = tuple(column.header for column in EXPORT_COLUMNS)


def opportunity_export_values(deals: QuerySet[Opportunity]) -> Iterator[list[Any]]:
    """One row of typed values per deal (Decimal, int, date, datetime, str or None), streamed."""
    paths = list(dict.fromkeys(column.path for column in EXPORT_COLUMNS))
    for values in deals.values_list(*paths).iterator(chunk_size=EXPORT_CHUNK_SIZE):
        row = dict(zip(paths, values, strict=True))
        yield [column.value(row) for column in EXPORT_COLUMNS]


# A spreadsheet opening a CSV runs a cell that starts with one of these as a formula (OWASP's
# "CSV injection" list, with the full-width forms some locales' Excel also accepts).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# ...except a plain number, which is a value, not a formula ("-12.5" stays as it is).
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
# Excel reads a CSV as UTF-8 only when it starts with this mark; without it accented names
# come out garbled.
UTF8_BOM = "\ufeff"


def neutralised(text: str) -> str:
    """CRM text that a spreadsheet would run as a formula, prefixed with `'` (as OWASP
    recommends) so it is shown as text; any other text as it is."""
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return f"'{text}"
    return text


def as_text(value: Any, kind: CellKind) -> str:
    """A value as CSV shows it: numbers plain (no exponent, no grouping), ISO dates, empty
    when unknown, text never a formula."""
    if value is None:
        return ""
    if kind in (CellKind.NUMBER, CellKind.MONEY):
        return str(value) if isinstance(value, int) else format(value, "f")
    if kind is CellKind.DATETIME:
        return timezone.localtime(value).isoformat(timespec="seconds")
    if kind is CellKind.DATE:
        return str(value.isoformat())
    return neutralised(str(value))


def opportunity_export_rows(deals: QuerySet[Opportunity]) -> Iterator[list[str]]:
    """The header, then one row of text per deal; streams in chunks so memory stays flat."""
    yield list(HEADERS)
    kinds: Sequence[CellKind] = [column.kind for column in EXPORT_COLUMNS]
    for values in opportunity_export_values(deals):
        yield [as_text(value, kind) for value, kind in zip(values, kinds, strict=True)]


class _Writable(Protocol):
    def write(self, text: str, /) -> object: ...


def opportunities_write_csv(
    deals: QuerySet[Opportunity], stream: _Writable, *, bom: bool = False
) -> int:
    """Write the deals as CSV (after a UTF-8 byte-order mark if `bom`); returns how many deals
    were written."""
    writer = csv.writer(stream)
    rows = opportunity_export_rows(deals)
    header = next(rows)
    if bom:  # in the first cell: a management command's stdout ends every write with a newline
        header[0] = UTF8_BOM + header[0]
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def opportunities_csv_pieces(
    deals: QuerySet[Opportunity], *, bom: bool = False, piece_bytes: int = CSV_PIECE_BYTES
) -> Iterator[bytes]:
    """The deals as UTF-8 CSV (after a byte-order mark if `bom`), in pieces of about
    `piece_bytes` for a streamed download.

    Rows are written to a small buffer that is sent and emptied whenever it is full, so memory
    holds one piece and one chunk of database rows, whatever the number of deals.
    """
    buffer = io.StringIO()
    if bom:
        buffer.write(UTF8_BOM)
    writer = csv.writer(buffer)
    for row in opportunity_export_rows(deals):
        writer.writerow(row)
        if buffer.tell() >= piece_bytes:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def table_csv(columns: Sequence[Column], rows: Iterable[list[Any]], *, bom: bool = True) -> bytes:
    """Any small table (a forecast, a waterfall) as UTF-8 CSV: the CSV headers, then each row
    as the deal export writes its values (plain numbers, ISO dates, text never a formula)."""
    buffer = io.StringIO()
    if bom:
        buffer.write(UTF8_BOM)
    writer = csv.writer(buffer)
    writer.writerow([column.header for column in columns])
    kinds = [column.kind for column in columns]
    for row in rows:
        writer.writerow([as_text(value, kind) for value, kind in zip(row, kinds, strict=True)])
    return buffer.getvalue().encode()
