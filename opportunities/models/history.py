"""A deal's history: its moves between phases, and the changes "What changed" reports."""

from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.db.models import Case, Count, F, Q, Sum, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.encoding import force_str

from opportunities.models.choices import ChangeKind, Phase, TransitionCause
from opportunities.models.deals import Opportunity
from pipeline_pulse.compiled_sql import prepared_raw, sql_with_one_id
from pipeline_pulse.dates import day_bounds, start_of_day

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


@functools.cache
def _rows_of_deal_sql(
    model: type[models.Model], alias: str, ordering: tuple[str, ...], limit: int | None
) -> str:
    """`SELECT` of one deal's rows of `model`, in `ordering`: the ORM compiles it once per
    process and database, with the deal's id as its only parameter."""
    rows = model._default_manager.using(alias).filter(opportunity_id=0).order_by(*ordering)
    return sql_with_one_id(rows[:limit] if limit is not None else rows)


M = TypeVar("M", bound=models.Model)

# Django's get_FOO_display() builds a dict of the field's choices on every call (about 25 µs):
# a deal page shows up to 100 changes with two labels each, the API a page of them. The
# history models look their labels up here instead; Django leaves a get_FOO_display()
# defined on the model itself in place (django-stubs declares Django's, hence the ignores).
_KIND_LABELS = dict(ChangeKind.choices)
_CAUSE_LABELS = dict(TransitionCause.choices)
_PHASE_LABELS = dict(Phase.choices)


def _label(labels: dict[Any, str], value: object) -> Any:
    """The choice's label, or the stored value itself for one the choices do not know:
    what Django's get_FOO_display() gives (None stays None, a number stays a number)."""
    return force_str(labels.get(value, value), strings_only=True)


class _DealRowsManager(models.Manager[M]):
    def _rows_of_deal(self, deal_pk: int, ordering: tuple[str, ...], limit: int | None) -> list[M]:
        # The deal page reads these on every view, a few rows each: compiling the ORM query
        # cost more than running it (about 1 ms of a 9 ms deal page for the two, measured in
        # one process; docs/benchmarks.md).
        sql = _rows_of_deal_sql(self.model, self.db, ordering, limit)
        return list(prepared_raw(self.model, self.db, sql, [deal_pk]))


class PhaseTransitionManager(_DealRowsManager["PhaseTransition"]):
    def of_deal(self, deal_pk: int) -> list[PhaseTransition]:
        """The deal's moves between phases, oldest first."""
        return self._rows_of_deal(deal_pk, ("occurred_at", "id"), None)


class PhaseTransition(models.Model):
    """One move of a deal between O2R phases; backwards moves are allowed but flagged."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="phase_transitions"
    )
    from_phase = models.PositiveSmallIntegerField(choices=Phase.choices, null=True, blank=True)
    to_phase = models.PositiveSmallIntegerField(choices=Phase.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    cause = models.CharField(max_length=16, choices=TransitionCause.choices)
    # Derived in the database so the flag can never disagree with the phases it describes.
    is_backwards = models.GeneratedField(
        expression=Case(
            When(from_phase__isnull=False, to_phase__lt=F("from_phase"), then=Value(True)),
            default=Value(False),
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )

    objects = PhaseTransitionManager()

    class Meta:
        ordering = ["opportunity", "occurred_at", "id"]
        indexes = [models.Index(fields=["opportunity", "occurred_at"], name="phase_tr_opp_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(to_phase__gte=1, to_phase__lte=4), name="phase_tr_to_phase_1_to_4"
            ),
            models.CheckConstraint(
                condition=Q(from_phase__isnull=True) | Q(from_phase__gte=1, from_phase__lte=4),
                name="phase_tr_from_phase_1_to_4",
            ),
        ]

    def __str__(self) -> str:
        start = Phase(self.from_phase).label if self.from_phase else "new"
        return f"{self.opportunity}: {start} → {Phase(self.to_phase).label}"

    def get_from_phase_display(self) -> Any:  # type: ignore[no-redef]  # stubs declare Django's
        return _label(_PHASE_LABELS, self.from_phase)

    def get_to_phase_display(self) -> Any:  # type: ignore[no-redef]  # stubs declare Django's
        return _label(_PHASE_LABELS, self.to_phase)

    def get_cause_display(self) -> Any:  # type: ignore[no-redef]  # stubs declare Django's
        return _label(_CAUSE_LABELS, self.cause)


class ChangeEventQuerySet(models.QuerySet["ChangeEvent"]):
    def between(self, start: date, end: date) -> ChangeEventQuerySet:
        """Events on the Singapore business days from `start` to `end`, both included."""
        after, before = day_bounds(start, end)
        return self.filter(occurred_at__gte=after, occurred_at__lt=before)

    def since(self, day: date) -> ChangeEventQuerySet:
        """Events from the start of a Singapore business day on."""
        return self.filter(occurred_at__gte=start_of_day(day))

    def of_kind(self, *kinds: str) -> ChangeEventQuerySet:
        return self.filter(kind__in=kinds)

    def counts_by_kind(self) -> dict[str, int]:
        rows = self.order_by().values_list("kind").annotate(n=Count("id"))
        return dict(rows)

    def visible_to(self, user: User | AnonymousUser) -> ChangeEventQuerySet:
        """Events of the live deals this login may see (a rep's own deals only)."""
        return self.filter(opportunity__in=Opportunity.objects.visible_to(user))

    def totals_by_kind(self) -> dict[str, tuple[int, Decimal]]:
        """Events and their SGD total per kind, in one query."""
        rows = (
            self.order_by().values_list("kind").annotate(events=Count("id"), sgd=Sum("sgd_value"))
        )
        return {kind: (events, sgd or Decimal("0.00")) for kind, events, sgd in rows}

    def latest_per_kind(self, limit: int) -> ChangeEventQuerySet:
        """The newest `limit` events of each kind, newest first, in one query."""
        return (
            self.annotate(
                rank_in_kind=Window(
                    RowNumber(),
                    partition_by=[F("kind")],
                    order_by=[F("occurred_at").desc(), F("id").desc()],
                )
            )
            .filter(rank_in_kind__lte=limit)
            .order_by("kind", "-occurred_at", "-id")
        )


class ChangeEventManager(_DealRowsManager["ChangeEvent"]):
    def newest_of_deal(self, deal_pk: int, limit: int) -> list[ChangeEvent]:
        """The deal's `limit` newest changes, newest first."""
        return self._rows_of_deal(deal_pk, ("-occurred_at", "-id"), limit)


class ChangeEvent(models.Model):
    """One change to a deal that "What changed" reports: new, pushed, amount, phase, won, lost."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="change_events"
    )
    kind = models.CharField(max_length=24, choices=ChangeKind.choices)
    # Text so one column holds dates (ISO), SGD amounts (exact decimals), phases and outcomes.
    old_value = models.CharField(max_length=64, blank=True)
    new_value = models.CharField(max_length=64, blank=True)
    delta = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The change in its own unit: the deal's currency for amounts, days for "
        "closing dates, phases for phase changes.",
    )
    sgd_value = models.DecimalField(
        "SGD value",
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="What the event is worth in SGD, for totals: an amount change valued at the "
        "deal's rate; the SGD change of a currency change; otherwise the deal's SGD amount.",
    )
    cause = models.CharField(
        max_length=16, choices=TransitionCause.choices, default=TransitionCause.SYNC
    )
    occurred_at = models.DateTimeField(default=timezone.now)

    objects = ChangeEventManager.from_queryset(ChangeEventQuerySet)()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["occurred_at"], name="change_event_time"),
            models.Index(fields=["kind", "occurred_at"], name="change_event_kind_time"),
            models.Index(fields=["opportunity", "occurred_at"], name="change_event_opp_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ChangeKind.values), name="change_event_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity}: {self.get_kind_display()} {self.old_value} → {self.new_value}"

    def get_kind_display(self) -> Any:  # type: ignore[no-redef]  # stubs declare Django's
        return _label(_KIND_LABELS, self.kind)

    def get_cause_display(self) -> Any:  # type: ignore[no-redef]  # stubs declare Django's
        return _label(_CAUSE_LABELS, self.cause)
