"""A deal's history: its moves between phases, and the changes "What changed" reports."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import models
from django.db.models import Case, Count, F, Q, Sum, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from opportunities.models.choices import ChangeKind, DealStatus, MoveKind, Phase, TransitionCause
from opportunities.models.deals import Opportunity
from pipeline_pulse.dates import day_bounds, start_of_day


class PhaseTransitionQuerySet(models.QuerySet["PhaseTransition"]):
    def of_deal(self, deal_pk: int) -> PhaseTransitionQuerySet:
        """The deal's moves between phases, oldest first."""
        return self.filter(opportunity_id=deal_pk).order_by("occurred_at", "id")


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

    objects = PhaseTransitionQuerySet.as_manager()

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

    def of_deal(self, deal_pk: int) -> ChangeEventQuerySet:
        """The deal's changes, newest first."""
        return self.filter(opportunity_id=deal_pk).order_by("-occurred_at", "-id")

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

    objects = ChangeEventQuerySet.as_manager()

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


class PipelineMove(models.Model):
    """One step of a deal's pipeline ledger: its status, closing date and SGD amount before and
    after a change, so the waterfall can say how a quarter's open pipeline moved, to the cent.

    Every writer of those three facts records one (the CRM page service, local edits, stage
    mappings, rate changes, deletions). A deal's first move has no "before": BASELINE when it
    was already in Zoho as history started (the first sync), NEW when it was created after.
    """

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="pipeline_moves"
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=8, choices=MoveKind.choices)
    status_before = models.CharField(max_length=8, choices=DealStatus.choices, blank=True)
    status_after = models.CharField(max_length=8, choices=DealStatus.choices)
    closing_before = models.DateField(null=True, blank=True)
    closing_after = models.DateField(null=True, blank=True)
    sgd_before = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    sgd_after = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["opportunity", "occurred_at", "id"]
        indexes = [
            models.Index(fields=["occurred_at"], name="pipeline_move_time"),
            models.Index(fields=["opportunity", "occurred_at"], name="pipeline_move_opp_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=MoveKind.values), name="pipeline_move_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status_after__in=DealStatus.values)
                & Q(status_before__in=["", *DealStatus.values]),
                name="pipeline_move_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.get_kind_display()} at {self.occurred_at}"
