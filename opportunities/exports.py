"""Deals as flat rows for CSV (and later Excel) exports; the command and web export share it."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Protocol

from django.db.models import QuerySet
from django.utils import timezone

from opportunities.models import HealthStatus, Opportunity, Outcome, Phase

EXPORT_COLUMNS = (
    "zoho_id",
    "name",
    "account",
    "owner",
    "owner_email",
    "stage",
    "phase",
    "outcome",
    "health",
    "health_reasons",
    "probability",
    "currency",
    "amount",
    "amount_sgd",
    "fx_rate",
    "fx_rate_date",
    "fx_rate_source",
    "closing_date",
    "territory",
    "service_line",
    "funding_type",
    "market_segment",
)
_VALUES = (
    "zoho_id",
    "name",
    "account__name",
    "owner__name",
    "owner__email",
    "stage",
    "phase",
    "outcome",
    "health_status",
    "health_reasons",
    "probability",
    "currency",
    "amount",
    "amount_sgd",
    "fx_rate",
    "fx_rate_as_of",
    "fx_rate_source",
    "closing_date",
    "territory",
    "service_line",
    "funding_type",
    "market_segment",
)


def opportunity_export_rows(deals: QuerySet[Opportunity]) -> Iterator[list[str]]:
    """The header, then one row per deal; streams in chunks so memory stays flat."""
    yield list(EXPORT_COLUMNS)
    for values in deals.values_list(*_VALUES).iterator(chunk_size=2000):
        row = dict(zip(_VALUES, values, strict=True))
        as_of = row["fx_rate_as_of"]
        yield [
            row["zoho_id"],
            row["name"],
            row["account__name"] or "",
            row["owner__name"] or "",
            row["owner__email"] or "",
            row["stage"],
            Phase(row["phase"]).label,
            Outcome(row["outcome"]).label,
            HealthStatus(row["health_status"]).label,
            "; ".join(reason.get("message", "") for reason in row["health_reasons"] or []),
            _plain(row["probability"]),
            row["currency"],
            _plain(row["amount"]),
            _plain(row["amount_sgd"]),
            _plain(row["fx_rate"]),
            timezone.localtime(as_of).date().isoformat() if as_of else "",
            row["fx_rate_source"],
            row["closing_date"].isoformat() if row["closing_date"] else "",
            row["territory"],
            row["service_line"],
            row["funding_type"],
            row["market_segment"],
        ]


def _plain(value: object) -> str:
    """Numbers as plain decimals (no exponent, no grouping); empty when unknown."""
    if value is None:
        return ""
    return format(value, "f") if not isinstance(value, int) else str(value)


class _Writable(Protocol):
    def write(self, text: str, /) -> object: ...


def opportunities_write_csv(deals: QuerySet[Opportunity], stream: _Writable) -> int:
    """Write the deals as CSV; returns how many deals were written."""
    writer = csv.writer(stream)
    rows = opportunity_export_rows(deals)
    writer.writerow(next(rows))
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count
