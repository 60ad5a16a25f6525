"""Re-converting deals in bulk: pages of locked rows in, one set-based UPDATE per page out.

Re-exported by currency/services.py, which is where callers import it from.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db import transaction

from currency.conversion import SgdConversion, SgdConverter, sgd_converter
from opportunities.models import Opportunity, OpportunityQuerySet, Outcome
from opportunities.services import health_recompute
from pipeline_pulse.bulk import rows_update

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
    # A deal without an SGD amount is Neutral; one that gains or loses it needs rescoring.
    convertible_flipped: list[int] = []
    for page in _pages(deals, opportunity_ids):
        changed = []
        for deal in page:
            was_converted = deal.amount_sgd is not None
            conversion = converter.convert(
                deal.amount,
                deal.currency,
                locked_on=deal.closing_date if lock_to_closing_date else None,
            )
            if _apply_conversion(deal, conversion):
                changed.append(deal)
                if (deal.amount_sgd is not None) != was_converted:
                    convertible_flipped.append(deal.pk)
        if changed:
            _write_fx_fields(changed)
            changed_count += len(changed)
    if convertible_flipped:
        health_recompute(opportunity_ids=convertible_flipped)
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
    """Write the FX fields of these deals in one statement (bulk_update is ~0.6 ms a deal)."""
    rows_update(
        Opportunity,
        fields=FX_FIELDS,
        rows=[(deal.pk, *(getattr(deal, name) for name in FX_FIELDS)) for deal in deals],
    )
