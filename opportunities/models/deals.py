"""Deals as Pipeline Pulse sees them: Zoho's fields plus phase, SGD amount and health."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.functions import Lower, Trim
from django.utils import timezone
from simple_history.models import HistoricalRecords

from currency.codes import ISO_CODE_REGEX
from currency.models import ConversionProblem, RateSource
from opportunities.models.choices import HealthStatus, Outcome, Phase
from opportunities.models.crm import Account, CrmUser
from opportunities.models.stages import CrmStage, StageMapping
from pipeline_pulse.models import AuditedModel

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# A deal with an amount that has no SGD value (no known rate): counted, never summed.
NOT_CONVERTED = Q(amount__isnull=False, amount_sgd__isnull=True)


# Worst first: how the board groups deals and how "sort by health" orders them.
HEALTH_ORDER = (
    HealthStatus.DANGER,
    HealthStatus.WARNING,
    HealthStatus.SUCCESS,
    HealthStatus.NEUTRAL,
)


def health_rank() -> Case:
    """0 for Danger, then Warning, Success, Neutral: the board's worst-first order.

    The board's index is built on this very expression, so PostgreSQL reads the first page
    of the default view from the index instead of sorting every deal in play.
    """
    return Case(
        *(When(health_status=status, then=Value(rank)) for rank, status in enumerate(HEALTH_ORDER)),
        default=Value(len(HEALTH_ORDER)),
        output_field=models.PositiveSmallIntegerField(),
    )


# Deals still in play: what the board shows when its URL sets no filter (filters.DEFAULT_OUTCOMES
# is made of these), and what the board's index covers. Won deals stay while their revenue is
# realised (the PO, kick-off, invoice and payment rules still apply); lost ones go.
IN_PLAY_OUTCOMES = (Outcome.OPEN, Outcome.WON)
IN_PLAY = Q(is_deleted=False, outcome__in=[outcome.value for outcome in IN_PLAY_OUTCOMES])


_OUTCOME_ORDER: dict[str, int] = {Outcome.OPEN: 0, Outcome.WON: 1, Outcome.LOST: 2}


def _pipeline_order() -> Any:
    """A sort key putting stages in the pipeline's order: Zoho's own (`sequence_number`, read
    from its pipeline metadata) for the stages it numbers; the others after them, open stages
    by the phase they map to and the CRM's probability, then won, then lost, then the stages
    no one mapped, each by name."""
    mapped = {
        stage.strip().lower(): (phase, outcome)
        for stage, phase, outcome in StageMapping.objects.values_list("stage", "phase", "outcome")
    }
    crm = {
        name.strip().lower(): (sequence, probability)
        for name, sequence, probability in CrmStage.objects.values_list(
            "name", "sequence_number", "probability"
        )
    }

    def key(stage: str) -> tuple[int, int, int, int, str]:
        name = stage.lower()
        sequence, chance = crm.get(name, (None, None))
        if sequence is not None:
            return (0, sequence, 0, 0, name)
        phase, outcome = mapped.get(name, (None, None))
        group = _OUTCOME_ORDER.get(outcome, 3) if outcome is not None else 3
        return (1, group, phase or 9, 101 if chance is None else chance, name)

    return key


def revenue_not_recognised(day: date) -> Q:
    """The deal's revenue is not recognised on `day`: no recognition date, or a later one."""
    return Q(revenue_recognised_on__isnull=True) | Q(revenue_recognised_on__gt=day)


class OpportunityQuerySet(models.QuerySet["Opportunity"]):
    def live(self) -> OpportunityQuerySet:
        """Deals still in Zoho (deleted ones are kept, soft-deleted, for history)."""
        return self.filter(is_deleted=False)

    def open(self) -> OpportunityQuerySet:
        return self.live().filter(outcome=Outcome.OPEN)

    def with_conflict_flag(self) -> OpportunityQuerySet:
        """Annotate `in_conflict`: a field of the deal waits for an Admin's decision."""
        # The Conflict model is declared after this one (it points here): reached through
        # the reverse relation rather than imported back.
        conflict: Any = self.model._meta.get_field("conflicts").related_model
        waiting = conflict.objects.filter(opportunity=models.OuterRef("pk"), status="open")
        return self.annotate(in_conflict=models.Exists(waiting))

    def with_record_flags(self) -> OpportunityQuerySet:
        """Annotate `has_conflicts` (open or settled) and `has_local_history` (edited here):
        whether the deal page has those sections to read at all."""
        # Both models point at this one: reached through the reverse relation and the
        # history descriptor rather than imported back.
        conflict: Any = self.model._meta.get_field("conflicts").related_model
        history: Any = self.model.history.model
        return self.annotate(
            has_conflicts=models.Exists(conflict.objects.filter(opportunity=models.OuterRef("pk"))),
            has_local_history=models.Exists(history.objects.filter(id=models.OuterRef("pk"))),
        )

    def health_tracked(self) -> OpportunityQuerySet:
        """Deals whose health can change with the calendar: open ones and won ones.

        Won deals stay tracked for their realisation milestones (PO, kick-off, invoice,
        payment); a lost deal is Neutral until something about it changes.
        """
        return self.live().exclude(outcome=Outcome.LOST)

    def in_pipeline(self, day: date | None = None) -> OpportunityQuerySet:
        """What the daily snapshot counts: open deals, and won deals until revenue is recognised
        (a recognition dated after `day`, by default today, is not reached yet)."""
        day = day or timezone.localdate()
        return self.live().filter(
            Q(outcome=Outcome.OPEN) | Q(Q(outcome=Outcome.WON), revenue_not_recognised(day))
        )

    def unmapped_stages(self) -> list[tuple[str, int]]:
        """Each stage no stage mapping knows, with its number of deals, most deals first.

        Matching is case-insensitive and ignores surrounding spaces, as in StageRules.
        """
        mapped = StageMapping.objects.annotate(key=Lower(Trim("stage"))).values("key")
        rows = (
            self.annotate(stage_key=Lower(Trim("stage")))
            .exclude(stage_key__in=mapped)
            .values("stage")
            .annotate(deals=Count("id"))
            .order_by("-deals", "stage")
            .values_list("stage", "deals")
        )
        return list(rows)

    def with_health_rank(self) -> OpportunityQuerySet:
        """Annotate `health_rank`: 0 for Danger, then Warning, Success, Neutral (worst first)."""
        return self.annotate(health_rank=health_rank())

    def currencies(self) -> set[str]:
        """The currency codes these deals use (one query)."""
        return set(self.order_by().values_list("currency", flat=True).distinct())

    def stage_choices(self) -> list[str]:
        """Every stage a deal may be moved to: the mapped stages and those deals are in."""
        mapped = StageMapping.objects.values_list("stage", flat=True)
        in_use = Opportunity.objects.live().order_by().values_list("stage", flat=True).distinct()
        by_key = {stage.strip().lower(): stage.strip() for stage in [*in_use, *mapped]}
        return sorted(by_key.values(), key=_pipeline_order())

    def stage_probabilities(self) -> dict[str, int]:
        """The CRM's default probability of each stage it described, by the stage's name."""
        rows = CrmStage.objects.filter(probability__isnull=False).order_by("name")
        return {
            name: chance
            for name, chance in rows.values_list("name", "probability")
            if chance is not None
        }

    def strategic(self) -> OpportunityQuerySet:
        return self.filter(self.strategic_condition())

    @staticmethod
    def strategic_condition() -> Q:
        """Strategic: a big SGD amount, or an account the business lists as strategic."""
        condition = Q(amount_sgd__gte=Decimal(settings.STRATEGIC_AMOUNT_SGD))
        if settings.STRATEGIC_ACCOUNTS:
            condition |= Q(account__name__in=settings.STRATEGIC_ACCOUNTS)
            condition |= Q(account__zoho_id__in=settings.STRATEGIC_ACCOUNTS)
        return condition


class Opportunity(AuditedModel):
    """One Zoho deal plus what Pipeline Pulse computes for it."""

    # --- From Zoho -----------------------------------------------------------------------------
    zoho_id = models.CharField("Zoho id", max_length=32, unique=True)
    name = models.CharField(max_length=120)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    owner = models.ForeignKey(
        CrmUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    stage = models.CharField(max_length=120, help_text="Zoho's stage, unchanged.")
    probability = models.PositiveSmallIntegerField(null=True, blank=True)
    amount = models.DecimalField(
        max_digits=18, decimal_places=2, null=True, blank=True, help_text="In the deal currency."
    )
    currency = models.CharField(max_length=3, help_text="ISO 4217 code, e.g. USD.")
    zoho_exchange_rate = models.DecimalField(
        max_digits=24, decimal_places=9, null=True, blank=True, help_text="Zoho's own rate."
    )
    closing_date = models.DateField(null=True, blank=True)
    zoho_created_time = models.DateTimeField(null=True, blank=True)
    zoho_modified_time = models.DateTimeField(null=True, blank=True)
    deal_type = models.CharField(max_length=120, blank=True)
    lead_source = models.CharField(max_length=120, blank=True)

    # Org-specific fields (their Zoho API names are configuration).
    territory = models.CharField(max_length=120, blank=True)
    service_line = models.CharField(max_length=120, blank=True)
    funding_type = models.CharField(max_length=120, blank=True)
    market_segment = models.CharField(max_length=120, blank=True)

    # Milestones, in the order revenue is realised.
    proposal_submitted_on = models.DateField(null=True, blank=True)
    po_received_on = models.DateField("PO received on", null=True, blank=True)
    kickoff_on = models.DateField("kick-off on", null=True, blank=True)
    invoiced_on = models.DateField(null=True, blank=True)
    payment_received_on = models.DateField(null=True, blank=True)
    revenue_recognised_on = models.DateField(null=True, blank=True)

    # --- Computed by Pipeline Pulse -------------------------------------------------------------
    amount_sgd = models.DecimalField(
        "amount (SGD)", max_digits=18, decimal_places=2, null=True, blank=True
    )
    fx_rate = models.DecimalField(
        "FX rate",
        max_digits=30,
        decimal_places=12,
        null=True,
        blank=True,
        help_text="SGD per one unit of the deal currency, as used for amount (SGD).",
    )
    fx_rate_as_of = models.DateTimeField("FX rate as of", null=True, blank=True)
    fx_rate_source = models.CharField(
        "FX rate source", max_length=8, choices=RateSource.choices, blank=True
    )
    fx_note = models.CharField(
        "FX note", max_length=200, blank=True, help_text="Why there is no SGD amount, or a caveat."
    )
    fx_problem = models.CharField(
        "FX problem",
        max_length=16,
        choices=ConversionProblem.choices,
        blank=True,
        help_text="Why the amount has no SGD value (empty when it has one).",
    )
    phase = models.PositiveSmallIntegerField(choices=Phase.choices, default=Phase.OPPORTUNITY)
    phase_entered_at = models.DateTimeField(default=timezone.now)
    stage_entered_at = models.DateTimeField(
        default=timezone.now, help_text="When the deal entered its current Zoho stage."
    )
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.OPEN)
    health_status = models.CharField(
        max_length=8, choices=HealthStatus.choices, default=HealthStatus.NEUTRAL
    )
    health_reasons = models.JSONField(
        default=list, blank=True, help_text="Ordered list of {code, severity, message}."
    )
    health_computed_at = models.DateTimeField(null=True, blank=True)
    closing_date_push_count = models.PositiveIntegerField(default=0)
    closing_date_pull_in_count = models.PositiveIntegerField(default=0)
    # The latest move of the closing date into a later quarter (the Slipped health rule).
    slipped_from = models.DateField(
        null=True,
        blank=True,
        help_text="The closing date before its latest move into a later quarter.",
    )
    slipped_at = models.DateTimeField(
        null=True, blank=True, help_text="When the closing date last moved into a later quarter."
    )

    # --- Bookkeeping ---------------------------------------------------------------------------
    is_deleted = models.BooleanField(default=False, help_text="Deleted in Zoho; kept for history.")
    deleted_at = models.DateTimeField(null=True, blank=True)
    zoho_values = models.JSONField(
        default=dict,
        blank=True,
        help_text="The last values seen from Zoho: the base of the three-way merge.",
    )
    pending_fields = models.JSONField(
        default=list, blank=True, help_text="Fields changed locally and not yet pushed to Zoho."
    )
    local_edited_at = models.JSONField(
        default=dict,
        blank=True,
        help_text="When each pending field was edited here (ISO time), for newest_wins.",
    )
    push_errors = models.JSONField(
        default=dict,
        blank=True,
        help_text="Zoho's refusal of a pushed field (field → message); not pushed again until "
        "edited again.",
    )
    refused_values = models.JSONField(
        default=dict,
        blank=True,
        help_text="Local values not sent or refused (field → value, as in zoho_values): the field "
        "shows Zoho's value meanwhile; push_errors says why.",
    )
    zoho_unreadable = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why Zoho's newest values of this deal could not be stored (empty: they "
        "were). Local edits are not sent over values Pipeline Pulse has not read.",
    )

    objects = OpportunityQuerySet.as_manager()
    # Every change saved through the ORM (local edits, conflict resolutions): who, when, what.
    history = HistoricalRecords(excluded_fields=["health_reasons", "zoho_values"])

    class Meta:
        verbose_name_plural = "opportunities"
        ordering = ["closing_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__isnull=True) | Q(probability__gte=0, probability__lte=100),
                name="opportunity_probability_0_to_100",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
                name="opportunity_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(amount_sgd__isnull=True) | Q(amount_sgd__gte=0),
                name="opportunity_amount_sgd_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(phase__gte=1, phase__lte=4), name="opportunity_phase_1_to_4"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=ISO_CODE_REGEX),
                name="opportunity_currency_iso_code",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values), name="opportunity_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(health_status__in=HealthStatus.values),
                name="opportunity_health_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(fx_rate__isnull=True) | Q(fx_rate__gt=0),
                name="opportunity_fx_rate_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["health_status"], name="opp_health_idx"),
            models.Index(fields=["phase"], name="opp_phase_idx"),
            models.Index(fields=["closing_date"], name="opp_closing_date_idx"),
            models.Index(fields=["territory"], name="opp_territory_idx"),
            models.Index(fields=["service_line"], name="opp_service_line_idx"),
            models.Index(fields=["zoho_modified_time"], name="opp_zoho_modified_idx"),
            # The board's default view and order (filters.DEFAULT_SORT): its first pages
            # come from this index instead of a sort of every deal in play.
            models.Index(
                health_rank(),
                F("closing_date"),
                F("id"),
                name="opp_board_in_play_idx",
                condition=IN_PLAY,
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def days_in_phase(self) -> int:
        """Whole Singapore calendar days since the deal entered its current phase."""
        return (timezone.localdate() - timezone.localdate(self.phase_entered_at)).days

    @property
    def days_in_stage(self) -> int:
        """Whole Singapore calendar days since the deal entered its current Zoho stage."""
        return (timezone.localdate() - timezone.localdate(self.stage_entered_at)).days

    @property
    def requires_attention(self) -> bool:
        return self.health_status == HealthStatus.DANGER

    @property
    def is_strategic(self) -> bool:
        if self.amount_sgd is not None and self.amount_sgd >= settings.STRATEGIC_AMOUNT_SGD:
            return True
        account = self.account
        return account is not None and (
            account.name in settings.STRATEGIC_ACCOUNTS
            or account.zoho_id in settings.STRATEGIC_ACCOUNTS
        )
