"""Re-converting deals in bulk: pages of locked rows in, one set-based UPDATE per page out.

Re-exported by currency/services.py, which is where callers import it from.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection, models, transaction

from currency.conversion import SgdConversion, SgdConverter, sgd_converter
from opportunities.models import Opportunity, OpportunityQuerySet, Outcome

FX_FIELDS = ("amount_sgd", "fx_rate", "fx_rate_as_of", "fx_rate_source", "fx_note")
# Deals read (and locked) per query: memory stays flat, and the number of queries grows with
# deals / page, never with deals.
RECONVERT_PAGE_SIZE = 2000


@transaction.atomic
def opportunities_reconvert(
    *,
    opportunity_ids: Iterable[int] | None = None,
    converter: SgdConverter | None = None,
) -> int:
    """Re-convert open, live deals (all, or these ids) at the latest rates; rows changed.

    Each page of deals is read with one locking query and written with one UPDATE, so the
    query count depends on deals / RECONVERT_PAGE_SIZE, never on deals.
    """
    return deals_reconvert(
        deals=Opportunity.objects.open(),
        opportunity_ids=opportunity_ids,
        converter=converter or sgd_converter(),
        lock_to_closing_date=False,
    )


@transaction.atomic
def won_opportunities_relock(
    *,
    opportunity_ids: Iterable[int] | None = None,
    converter: SgdConverter | None = None,
) -> int:
    """Re-convert live won deals at the rate in force on their closing dates; rows changed.

    For after a history backfill: a deal locked to a rate from after its closing date gets
    the closing date's rate once that is stored.
    """
    return deals_reconvert(
        deals=Opportunity.objects.live().filter(outcome=Outcome.WON),
        opportunity_ids=opportunity_ids,
        converter=converter or sgd_converter(),
        lock_to_closing_date=True,
    )


def deals_reconvert(
    *,
    deals: OpportunityQuerySet,
    converter: SgdConverter,
    lock_to_closing_date: bool,
    opportunity_ids: Iterable[int] | None = None,
) -> int:
    """Convert these deals (latest rates, or locked to their closing dates); rows changed.

    Call inside a transaction: the pages are read with SELECT ... FOR UPDATE.
    """
    changed_count = 0
    for page in _pages(deals, opportunity_ids):
        changed = []
        for deal in page:
            conversion = converter.convert(
                deal.amount,
                deal.currency,
                locked_on=deal.closing_date if lock_to_closing_date else None,
            )
            if _apply_conversion(deal, conversion):
                changed.append(deal)
        if changed:
            _write_fx_fields(changed)
            changed_count += len(changed)
    return changed_count


def _pages(
    deals: OpportunityQuerySet, opportunity_ids: Iterable[int] | None
) -> Iterator[list[Opportunity]]:
    # Locked rows: a sync writing the same deal waits, so an amount it changes is never
    # overwritten with an SGD figure computed from the old amount.
    base = deals.select_for_update().only("id", "amount", "currency", "closing_date", *FX_FIELDS)
    if opportunity_ids is not None:
        ids = sorted(set(opportunity_ids))
        for start in range(0, len(ids), RECONVERT_PAGE_SIZE):
            yield list(base.filter(id__in=ids[start : start + RECONVERT_PAGE_SIZE]).order_by("id"))
        return
    last_id = 0
    while True:
        page = list(base.filter(id__gt=last_id).order_by("id")[:RECONVERT_PAGE_SIZE])
        if page:
            yield page
        if len(page) < RECONVERT_PAGE_SIZE:
            return
        last_id = page[-1].id


def _apply_conversion(deal: Opportunity, conversion: SgdConversion) -> bool:
    values = {
        "amount_sgd": conversion.amount_sgd,
        "fx_rate": conversion.rate,
        "fx_rate_as_of": conversion.rate_as_of,
        "fx_rate_source": conversion.rate_source,
        "fx_note": conversion.note,
    }
    changed = False
    for field, value in values.items():
        if getattr(deal, field) != value:
            setattr(deal, field, value)
            changed = True
    return changed


def _write_fx_fields(deals: list[Opportunity]) -> None:
    """Write the FX fields of these deals in one statement.

    Django's bulk_update builds a CASE branch per row and field in Python, about 0.6 ms a
    deal (see bench/currency_conversion.py); on PostgreSQL one UPDATE joined to a VALUES
    list does the same in a fraction of that. Other databases (the embedded SQLite) keep
    bulk_update: they hold demo-sized data.
    """
    if not _update_from_values_supported():
        Opportunity.objects.bulk_update(deals, FX_FIELDS, batch_size=RECONVERT_PAGE_SIZE)
        return
    from psycopg import sql  # PostgreSQL only: the SQLite demo never gets here

    fields = [_column_field(name) for name in FX_FIELDS]
    params: list[Any] = []
    for deal in deals:
        params.append(deal.pk)
        params.extend(
            field.get_db_prep_save(getattr(deal, field.attname), connection) for field in fields
        )
    # Composed with identifiers and placeholders only: every value is a parameter. NULLs
    # arrive untyped in VALUES, hence the casts to the columns' own types.
    statement = sql.SQL(
        "UPDATE {table} AS o SET {assignments} FROM (VALUES {rows}) AS v(id, {columns}) "
        "WHERE o.{pk} = v.id::bigint"
    ).format(
        table=sql.Identifier(Opportunity._meta.db_table),
        assignments=sql.SQL(", ").join(
            [
                sql.SQL("{column} = v.{column}::{type}").format(
                    column=sql.Identifier(str(field.column)),
                    type=sql.SQL(str(field.db_type(connection))),
                )
                for field in fields
            ]
        ),
        rows=sql.SQL(", ").join(
            [sql.SQL("({})").format(sql.SQL(", ").join([sql.Placeholder()] * (len(fields) + 1)))]
            * len(deals)
        ),
        columns=sql.SQL(", ").join([sql.Identifier(str(field.column)) for field in fields]),
        pk=sql.Identifier(str(Opportunity._meta.pk.column)),
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _update_from_values_supported() -> bool:
    return connection.vendor == "postgresql"


def _column_field(name: str) -> models.Field[Any, Any]:
    field = Opportunity._meta.get_field(name)
    if not isinstance(field, models.Field) or field.column is None:
        raise TypeError(f"Opportunity.{name} is not a column")
    return field
