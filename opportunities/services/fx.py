"""SGD amounts after a rate change: open deals follow the latest rates, won deals stay locked.

The currency app announces rate changes (currency.signals.rates_changed); opportunities/
receivers.py passes them here. Deals are read a page of locked rows at a time and
written with one set-based UPDATE per page, so memory stays flat and the query count grows with
deals / RECONVERT_PAGE_SIZE, never with deals.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from currency.conversion import HOME_CURRENCY, SgdConversion, SgdConverter, sgd_converter
from currency.signals import RateChange
from opportunities.data_version import deals_changed
from opportunities.derivation import CLOSED_OUTCOMES, FX_FIELDS, fx_values
from opportunities.models import (
    NOT_CONVERTED,
    MoveKind,
    Opportunity,
    OpportunityQuerySet,
    PipelineMove,
)
from opportunities.services.health import health_recompute
from opportunities.services.history import PipelineState, pipeline_move
from pipeline_pulse.storage.bulk import id_chunks, keyset_pages, rows_update

# Deals read (and locked) per query.
RECONVERT_PAGE_SIZE = 2000


@transaction.atomic
def opportunities_reconvert(
    *,
    opportunity_ids: Iterable[int] | None = None,
    converter: SgdConverter | None = None,
    at: datetime | None = None,
) -> int:
    """Re-convert open, live deals (all, or these ids) at the latest rates; rows changed."""
    return deals_reconvert(
        deals=Opportunity.objects.open(),
        opportunity_ids=opportunity_ids,
        converter=converter or sgd_converter(),
        lock_to_closing_date=False,
        at=at,
    )


@transaction.atomic
def closed_opportunities_relock(
    *,
    opportunity_ids: Iterable[int] | None = None,
    converter: SgdConverter | None = None,
    at: datetime | None = None,
) -> int:
    """Re-convert live won and lost deals at the rate in force on their closing dates."""
    return deals_reconvert(
        deals=Opportunity.objects.live().filter(outcome__in=CLOSED_OUTCOMES),
        opportunity_ids=opportunity_ids,
        converter=converter or sgd_converter(),
        lock_to_closing_date=True,
        at=at,
    )


@transaction.atomic
def opportunities_follow_rates(*, change: RateChange) -> int:
    """Bring SGD amounts in line with a rate change; how many deals changed.

    Open deals in the changed currencies take the latest rates. When the history changed from
    a business day on, closed (won or lost) deals whose locked rate can move are locked again:
    those closing on or after that day, those locked to a rate from after their closing date
    (the day's own rate may now be known), and those never converted for want of a rate.
    """
    converter = sgd_converter(use_cache=False)
    open_deals = Opportunity.objects.open()
    closed_deals = Opportunity.objects.live().filter(outcome__in=CLOSED_OUTCOMES)
    if change.currencies is not None and HOME_CURRENCY not in change.currencies:
        # Every conversion uses SGD's rate; otherwise only the deal's own currency matters.
        open_deals = open_deals.filter(currency__in=change.currencies)
        closed_deals = closed_deals.filter(currency__in=change.currencies)
    changed = deals_reconvert(deals=open_deals, converter=converter, lock_to_closing_date=False)
    if change.effective_from is not None:
        movable = (
            Q(closing_date__gte=change.effective_from)
            | Q(fx_rate_as_of__date__gt=F("closing_date"))
            # Never converted (no rate then): any rate in its currency is news to it.
            | NOT_CONVERTED
        )
        changed += deals_reconvert(
            deals=closed_deals.filter(movable), converter=converter, lock_to_closing_date=True
        )
    return changed


def deals_reconvert(
    *,
    deals: OpportunityQuerySet,
    converter: SgdConverter,
    lock_to_closing_date: bool,
    opportunity_ids: Iterable[int] | None = None,
    at: datetime | None = None,
) -> int:
    """Convert these deals (latest rates, or locked to their closing dates); rows changed.

    Call inside a transaction: each page's rows are locked (SELECT ... FOR UPDATE), so a sync
    writing the same deal waits and an amount it changes is never overwritten with an SGD
    figure computed from the old amount.
    """
    changed_count = 0
    rescore: list[int] = []
    at = at or timezone.now()
    rows = deals.select_for_update().only(
        "id", "amount", "currency", "closing_date", "outcome", *FX_FIELDS
    )
    pages = (
        keyset_pages(rows, size=RECONVERT_PAGE_SIZE)
        if opportunity_ids is None
        else (
            list(rows.filter(pk__in=ids).order_by("pk"))
            for ids in id_chunks(opportunity_ids, size=RECONVERT_PAGE_SIZE)
        )
    )
    for page in pages:
        changed = []
        moves: list[PipelineMove] = []
        for deal in page:
            # Health reads whether there is an SGD amount, and why not: a change rescores.
            was = (deal.amount_sgd is None, deal.fx_problem)
            sgd_before = deal.amount_sgd
            conversion = converter.convert(
                deal.amount,
                deal.currency,
                locked_on=deal.closing_date if lock_to_closing_date else None,
            )
            if _apply_conversion(deal, conversion):
                changed.append(deal)
                move = pipeline_move(
                    deal.pk,
                    at=at,
                    kind=MoveKind.FX,
                    before=PipelineState(deal.outcome, deal.closing_date, sgd_before),
                    after=PipelineState(deal.outcome, deal.closing_date, deal.amount_sgd),
                )
                moves.extend([move] if move else [])
                if (deal.amount_sgd is None, deal.fx_problem) != was:
                    rescore.append(deal.pk)
        if changed:
            rows_update(
                Opportunity,
                fields=FX_FIELDS,
                rows=[(deal.pk, *(getattr(deal, name) for name in FX_FIELDS)) for deal in changed],
            )
            PipelineMove.objects.bulk_create(moves)
            changed_count += len(changed)
    if rescore:
        health_recompute(opportunity_ids=rescore)
    if changed_count:
        deals_changed()
    return changed_count


def _apply_conversion(deal: Opportunity, conversion: SgdConversion) -> bool:
    changed = False
    for field, value in fx_values(conversion).items():
        if getattr(deal, field) != value:
            setattr(deal, field, value)
            changed = True
    return changed
