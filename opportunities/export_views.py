"""The health board's downloads: exactly the filtered board (every page) as CSV or Excel.

Both take the board's query string, filter it with the board's own FilterSet over the deals
the login may see (a query with no filter is the board's default view: lost deals left out),
and stream the file: rows are read from the database in chunks and sent in pieces, so a
download of 100,000 deals never holds them in memory.

Served as deployed (uvicorn through asgi.py's thread pool) the request is a WSGI one and
the pieces go out as the thread makes them. Django's own ASGI handler (its AsyncClient, or a
server pointed at `django.core.asgi`) would read a synchronous streaming body into a list
before sending it, so there the pieces come from an asynchronous iterator that makes each
piece in the request's thread (one database connection, one cursor) and sends it before
making the next.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    QueryDict,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.views.decorators.http import require_GET

from opportunities.access import deals_visible_to
from opportunities.exports import opportunities_csv_pieces
from opportunities.exports_xlsx import XLSX_CONTENT_TYPE, opportunities_xlsx_pieces
from opportunities.filters import DealFilter, board_query
from opportunities.models import Opportunity
from pipeline_pulse.web.rate_limits import EXPORT_LEASE_SECONDS, Slot, SlotTaken, slot_take

FILENAME = "pipeline-pulse-deals-{day:%Y-%m-%d}.{extension}"

# The deals, and the day the change columns count from.
Pieces = Callable[[QuerySet[Opportunity], date], Iterator[bytes]]


@require_GET
def board_export_csv(request: HttpRequest) -> HttpResponseBase:
    """The filtered board as CSV (UTF-8, one row per deal, the export columns).

    A byte-order mark comes first unless `?bom=0`: a person downloading it from the board
    opens it in a spreadsheet, and Excel reads accented names right only with the mark.
    """
    params = request.GET.copy()
    bom = params.pop("bom", ["1"])[-1]
    if bom not in ("0", "1"):
        return HttpResponseBadRequest(
            "Nothing was exported: bom must be 0 or 1.\n", content_type="text/plain; charset=utf-8"
        )

    def pieces(deals: QuerySet[Opportunity], since: date) -> Iterator[bytes]:
        return opportunities_csv_pieces(deals, bom=bom == "1", since=since)

    return _export(request, params, pieces, "text/csv; charset=utf-8", "csv")


@require_GET
def board_export_xlsx(request: HttpRequest) -> HttpResponseBase:
    """The filtered board as an Excel workbook with typed cells."""

    def pieces(deals: QuerySet[Opportunity], since: date) -> Iterator[bytes]:
        return opportunities_xlsx_pieces(deals, since=since)

    return _export(request, request.GET, pieces, XLSX_CONTENT_TYPE, "xlsx")


def _export(
    request: HttpRequest, params: QueryDict, pieces: Pieces, content_type: str, extension: str
) -> HttpResponseBase:
    query, _ = board_query(params)  # the board's default view when the URL sets none
    board = DealFilter(query, queryset=deals_visible_to(request.user), request=request)
    if not board.is_valid():
        return HttpResponseBadRequest(
            _invalid_filters_message(board.errors), content_type="text/plain; charset=utf-8"
        )
    try:
        slot = slot_take(key=f"exports:{request.user.pk}", limit=settings.EXPORTS_PER_LOGIN)
    except SlotTaken as taken:
        return _too_many_exports(taken.retry_after)
    held = HeldPieces(pieces(board.qs, board.since_date()), slot)
    response = StreamingHttpResponse(_streamed(request, held), content_type=content_type)
    filename = FILENAME.format(day=timezone.localdate(), extension=extension)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # The rows are the login's own view of the pipeline: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response


def _too_many_exports(retry_after: int) -> HttpResponse:
    limit: int = settings.EXPORTS_PER_LOGIN
    response = HttpResponse(
        f"Nothing was exported: {limit} of your exports are still being made, and each holds "
        f"one of the server's request threads. Try again in {retry_after} seconds, once one "
        "has finished.\n",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(retry_after)
    return response


class HeldPieces:
    """The file's pieces, holding the login's export slot until the download ends or is
    abandoned (Django closes the iterator either way, started or not)."""

    def __init__(self, pieces: Iterator[bytes], slot: Slot) -> None:
        self.pieces, self.slot = pieces, slot
        self.renewed_at = time.monotonic()

    def __iter__(self) -> HeldPieces:
        return self

    def __next__(self) -> bytes:
        if time.monotonic() - self.renewed_at > EXPORT_LEASE_SECONDS / 3:
            self.slot.renew()  # a very long download keeps its slot
            self.renewed_at = time.monotonic()
        return next(self.pieces)

    def close(self) -> None:
        try:
            _close(self.pieces)
        finally:
            self.slot.release()


def _invalid_filters_message(errors: Any) -> str:
    lines = [
        f"- {field}: {' '.join(str(message) for message in messages)}"
        for field, messages in errors.items()
    ]
    return "Nothing was exported: the board's filters are not valid.\n" + "\n".join(lines) + "\n"


def _streamed(
    request: HttpRequest, pieces: Iterator[bytes]
) -> Iterator[bytes] | AsyncIterator[bytes]:
    return _async_pieces(pieces) if isinstance(request, ASGIRequest) else pieces


def _next_piece(pieces: Iterator[bytes]) -> bytes | None:
    # StopIteration cannot cross into a coroutine: the end is None instead.
    return next(pieces, None)


def _close(pieces: Iterator[bytes]) -> None:
    close = getattr(pieces, "close", None)
    if close is not None:
        close()


async def _async_pieces(pieces: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Each piece made in the request's sync thread (thread-sensitive), sent, then the next.

    Closing the generator when the download ends or the client goes away releases its
    database cursor and deletes its buffer, in the same thread that opened them.
    """
    next_piece = sync_to_async(_next_piece, thread_sensitive=True)
    try:
        while (piece := await next_piece(pieces)) is not None:
            yield piece
    finally:
        await sync_to_async(_close, thread_sensitive=True)(pieces)
