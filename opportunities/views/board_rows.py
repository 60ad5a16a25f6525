"""The board's deal rows, each rendered once for as long as what it shows stays the same.

Fifty rows are most of the board's cost (about 20 ms of template rendering a request), and
a row shows the same thing to every login: the deal's name, account, health and reasons,
owner, phase, amounts and closing date. So a row's HTML is kept in the cache under a digest
of exactly the values it is drawn from, plus a digest of the template itself. A row whose
deal changed in any way it shows gets a new key and is drawn afresh; nothing is ever
invalidated, and nothing stale can be served: an edit, a sync or the nightly rescoring
changes the values, so the key, at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.core.cache import cache
from django.template.loader import get_template

from opportunities.models import Opportunity

ROW_TEMPLATE = "opportunities/board.html#deal-row"
# Rows of deals nobody opened for this long leave the cache; a busy board keeps its own.
ROW_SECONDS = 15 * 60
# Every column a row shows, and all the board reads of its 50 deals (`.only()`): a row that
# read one more would cost a query per deal, which the query-count tests catch.
BOARD_COLUMNS = (
    "name",
    "stage",
    "phase",
    "outcome",
    "probability",
    "amount",
    "currency",
    "amount_sgd",
    "fx_note",
    "closing_date",
    "health_status",
    "health_reasons",
    "pending_fields",
    "account__name",
    "owner__name",
)
# What a row is drawn from: those columns, the deal's id and whether it is in conflict.
ROW_VALUES = ("pk", "in_conflict", *BOARD_COLUMNS)


def board_rows_html(deals: Sequence[Opportunity]) -> list[str]:
    """Each deal's `<tr>`, from the cache where an identical row was drawn before."""
    version = _template_digest()
    keys = [_row_key(deal, version) for deal in deals]
    cached: dict[str, str] = cache.get_many(keys)
    template = get_template(ROW_TEMPLATE)
    drawn: dict[str, str] = {}
    rows = []
    for deal, key in zip(deals, keys, strict=True):
        row = cached.get(key) or drawn.get(key)
        if row is None:
            row = drawn[key] = template.render({"deal": deal})
        rows.append(row)
    if drawn:
        cache.set_many(drawn, ROW_SECONDS)
    return rows


def _row_key(deal: Opportunity, version: str) -> str:
    values = [_value(deal, name) for name in ROW_VALUES]
    digest = hashlib.blake2b(repr(values).encode(), digest_size=16).hexdigest()
    return f"board:row:{version}:{digest}"


def _value(deal: Opportunity, path: str) -> object:
    """`account__name` and the like follow the relation; a deal without one gives None."""
    value: object = deal
    for name in path.split("__"):
        value = getattr(value, name, None)
        if value is None:
            return None
    return value


def _template_digest() -> str:
    """The board template's own digest: a change to how a row looks starts afresh.

    The template comes from the loader's cache; hashing its 15 kB takes microseconds.
    """
    source = get_template("opportunities/board.html").template.source  # type: ignore[attr-defined]
    return hashlib.blake2b(source.encode(), digest_size=8).hexdigest()
