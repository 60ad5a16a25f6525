"""Deals as Pipeline Pulse sees them: Zoho's fields plus phase, SGD amount and health."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connections, models
from django.db.models import Case, Count, F, Q, Sum, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower, Trim
from django.utils import timezone
from simple_history.models import HistoricalRecords

from currency.codes import ISO_CODE_REGEX
from currency.models import ConversionProblem, RateSource
from opportunities.models.choices import HealthStatus, Outcome, Phase
from opportunities.models.crm import Account, CrmUser
from opportunities.models.stages import StageMapping
from opportunities.roles import Role, role_of
from pipeline_pulse.compiled_sql import prepared_raw, sql_with_one_id
from pipeline_pulse.dates import quarter_bounds
from pipeline_pulse.models import AuditedModel

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# A deal with an amount that has no SGD value (no known rate): counted, never summed.
NOT_CONVERTED = Q(amount__isnull=False, amount_sgd__isnull=True)


@functools.cache
def _record_flags_sql(deal_model: type[models.Model], alias: str) -> dict[str, str]:
    """The EXISTS clauses of `with_record_flags`, built once per process and database.

    Only table and column names of our own models go in, quoted: nothing a user typed.
    """
    quote = connections[alias].ops.quote_name
    deal_id = f"{quote(deal_model._meta.db_table)}.{quote('id')}"
    conflicts: Any = deal_model._meta.get_field("conflicts")  # the reverse relation
    # simple-history's model of the deal table (its descriptor builds a manager per access).
    history: Any = vars(deal_model)["history"].model
    exists = "EXISTS (SELECT 1 FROM {table} WHERE {column} = {deal_id})"
    return {
        "has_conflicts": exists.format(
            table=quote(conflicts.related_model._meta.db_table),
            column=quote(conflicts.field.column),
            deal_id=deal_id,
        ),
        "has_local_history": exists.format(
            table=quote(history._meta.db_table), column=quote("id"), deal_id=deal_id
        ),
    }


# The deal's relations read with it by `live_deal`, each column as an annotation
# `_<relation>__<column>` (the deal has an `account_id` of its own).
_LIVE_DEAL_RELATIONS: dict[str, type[models.Model]] = {"account": Account, "owner": CrmUser}


def _relation_columns(model: type[models.Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def _from_database(model: type[models.Model], values: list[Any], alias: str) -> list[Any]:
    """A row's values of `model`'s columns as the ORM would give them: through the backend's
    and each field's converters, as a compiled query applies them."""
    connection = connections[alias]
    converted = []
    fields: list[Any] = list(model._meta.concrete_fields)  # the stubs miss get_db_converters
    for field, value in zip(fields, values, strict=True):
        column = field.get_col(model._meta.db_table)
        for convert in [
            *connection.ops.get_db_converters(column),
            *field.get_db_converters(connection),
        ]:
            value = convert(value, column, connection)
        converted.append(value)
    return converted


@functools.cache
def _live_deal_sql(alias: str) -> str:
    """`live_deal`'s SELECT, compiled by the ORM once per process and database, with the
    deal's id as its only parameter."""
    deals = Opportunity.objects.using(alias).live().with_record_flags()
    related = {
        f"_{relation}__{column}": F(f"{relation}__{column}")
        for relation, model in _LIVE_DEAL_RELATIONS.items()
        for column in _relation_columns(model)
    }
    return sql_with_one_id(deals.annotate(**related).filter(pk=0))


# Roles that see every live deal; a Rep sees their own (OpportunityQuerySet.visible_to).
EVERY_LIVE_DEAL_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.VIEWER})
# The largest id PostgreSQL's bigint holds: a larger one names no deal.
_LARGEST_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class PipelineSummary:
    """The KPIs of a set of deals, in SGD (exact Decimal, rounded half-up to the cent).

    - open_pipeline_sgd: SGD amounts of open deals;
    - weighted_pipeline_sgd: open deals' SGD amounts times their probability;
    - won_this_quarter_sgd: won deals closing in this calendar quarter;
    - danger_count / danger_sgd: deals in Danger;
    - win_rate: won deals / (won + lost), None when none has closed;
    - average_deal_sgd: the average SGD amount of won deals, None without any;
    - not_convertible_count: deals with an amount that has no SGD value (left out of sums).
    """

    open_pipeline_sgd: Decimal
    weighted_pipeline_sgd: Decimal
    won_this_quarter_sgd: Decimal
    danger_count: int
    danger_sgd: Decimal
    win_rate: Decimal | None
    average_deal_sgd: Decimal | None
    not_convertible_count: int
    quarter: tuple[date, date]

    @classmethod
    def from_totals(cls, totals: dict[str, Any], *, quarter: tuple[date, date]) -> PipelineSummary:
        def money(value: Decimal | None) -> Decimal:
            return (value or ZERO).quantize(CENT, ROUND_HALF_UP)

        won, lost = totals["won_count"], totals["lost_count"]
        won_converted = totals["won_converted"]
        return cls(
            open_pipeline_sgd=money(totals["open_pipeline"]),
            weighted_pipeline_sgd=money((totals["weighted_x100"] or ZERO) / 100),
            won_this_quarter_sgd=money(totals["won_this_quarter"]),
            danger_count=totals["danger_count"],
            danger_sgd=money(totals["danger_sgd"]),
            win_rate=(Decimal(won) / Decimal(won + lost)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
            if won + lost
            else None,
            average_deal_sgd=money(totals["won_sgd"] / won_converted) if won_converted else None,
            not_convertible_count=totals["not_convertible"],
            quarter=quarter,
        )


# Worst first: how the board groups deals and how "sort by health" orders them.
HEALTH_ORDER = (
    HealthStatus.DANGER,
    HealthStatus.WARNING,
    HealthStatus.SUCCESS,
    HealthStatus.NEUTRAL,
)

# The dashboard's breakdowns of the open pipeline, named as the board's filters name them.
BREAKDOWN_FIELDS = {
    "phase": "phase",
    "health": "health_status",
    "territory": "territory",
    "service_line": "service_line",
}


@dataclass(frozen=True, slots=True)
class PipelineBucket:
    """One bar of a breakdown: the open deals with one value of a field.

    `value` is what the board's filter of the same name takes ("" for a blank field);
    `not_converted` deals are counted but left out of `amount_sgd`.
    """

    value: str
    deal_count: int
    amount_sgd: Decimal
    not_converted: int


def _bucket_order(dimension: str, buckets: dict[str, PipelineBucket]) -> list[PipelineBucket]:
    if dimension == "phase":
        return [buckets[str(phase)] for phase in Phase.values if str(phase) in buckets]
    if dimension == "health":
        return [buckets[status] for status in HEALTH_ORDER if status in buckets]
    # Territories and service lines: the biggest first, blanks last.
    return sorted(
        buckets.values(), key=lambda b: (b.value == "", -b.amount_sgd, -b.deal_count, b.value)
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


# The board's default view (filters.DEFAULT_OUTCOMES): live deals, open or won.
IN_PLAY = Q(is_deleted=False) & (Q(outcome="won") | Q(outcome="open"))


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
        """Annotate `has_conflicts` (open or settled) and `has_local_history` (edited here).

        Most deals have neither: a page that shows them skips both reads, for an index probe
        each in the query that fetches the deal. For the deal query itself, not a subquery:
        the EXISTS clauses name the deal table, as Django's own Exists would cost ~1.3 ms of
        compiling per page where this costs ~0.1 ms (measured in bench/web's deal page).
        """
        flags = _record_flags_sql(self.model, self.db)
        return self.annotate(
            **{name: RawSQL(sql, (), models.BooleanField()) for name, sql in flags.items()}  # noqa: S611  # nosec B611
        )

    def live_deal(self, pk: object) -> Opportunity | None:
        """The live deal `pk` with its account and owner and `with_record_flags()`, or None.

        What every read of one deal needs (its page, the API's detail). The same query as
        `live().select_related("account", "owner").with_record_flags().get(pk=...)`, but
        compiled once per process: building and compiling that queryset took about half of
        the read's 4 ms (bench/web's deal page, in one process), for SQL that only the id
        changes. On PostgreSQL it runs as a prepared statement, planned once per connection.
        """
        if self.query.where:
            # The compiled SQL reads from every deal: a filter here would be silently lost.
            raise TypeError("live_deal() reads any live deal: call it on Opportunity.objects")
        try:
            deal_id = int(str(pk))
        except ValueError:
            return None
        if not 0 < deal_id <= _LARGEST_ID:
            return None
        sql = _live_deal_sql(self.db)
        deal = next(iter(prepared_raw(self.model, self.db, sql, [deal_id])), None)
        if deal is None:
            return None
        # raw() converts the deal's own columns only: the flags and the relations' columns
        # come as the database gives them.
        for flag in _record_flags_sql(Opportunity, self.db):
            setattr(deal, flag, bool(getattr(deal, flag)))
        for relation, model in _LIVE_DEAL_RELATIONS.items():
            columns = _relation_columns(model)
            values = [deal.__dict__.pop(f"_{relation}__{column}") for column in columns]
            related = None
            if getattr(deal, f"{relation}_id") is not None:
                related = model.from_db(self.db, columns, _from_database(model, values, self.db))
            # Through the descriptor: cached on the deal, so reading it costs no query.
            setattr(deal, relation, related)
        return deal

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
        not_recognised = Q(revenue_recognised_on__isnull=True) | Q(revenue_recognised_on__gt=day)
        return self.live().filter(
            Q(outcome=Outcome.OPEN) | Q(Q(outcome=Outcome.WON), not_recognised)
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

    def pipeline_summary(self, *, today: date | None = None) -> PipelineSummary:
        """The dashboard's SGD figures over these deals, in one query (see PipelineSummary)."""
        today = today or timezone.localdate()
        quarter = quarter_bounds(today)
        is_open, is_won = Q(outcome=Outcome.OPEN), Q(outcome=Outcome.WON)
        danger = Q(health_status=HealthStatus.DANGER)
        totals = self.order_by().aggregate(
            open_pipeline=Sum("amount_sgd", filter=is_open),
            weighted_x100=Sum(F("amount_sgd") * F("probability"), filter=is_open),
            won_this_quarter=Sum("amount_sgd", filter=is_won & Q(closing_date__range=quarter)),
            danger_count=Count("pk", filter=danger),
            danger_sgd=Sum("amount_sgd", filter=danger),
            won_count=Count("pk", filter=is_won),
            lost_count=Count("pk", filter=Q(outcome=Outcome.LOST)),
            won_sgd=Sum("amount_sgd", filter=is_won),
            won_converted=Count("amount_sgd", filter=is_won),
            not_convertible=Count("pk", filter=NOT_CONVERTED),
        )
        return PipelineSummary.from_totals(totals, quarter=quarter)

    def currencies(self) -> set[str]:
        """The currency codes these deals use (one query)."""
        return set(self.order_by().values_list("currency", flat=True).distinct())

    def open_pipeline_breakdown(self) -> dict[str, list[PipelineBucket]]:
        """The open deals by phase, health, territory and service line, in one query.

        One GROUP BY over the four fields together (a few hundred rows at most in a real org)
        is summed here into the four breakdowns: one pass over the deals instead of four.
        Keys are those of BREAKDOWN_FIELDS; each list is in display order.
        """
        rows = (
            self.open()
            .order_by()
            .values(*BREAKDOWN_FIELDS.values())
            .annotate(
                deals=Count("pk"),
                sgd=Sum("amount_sgd"),
                missing=Count("pk", filter=Q(amount_sgd__isnull=True)),
            )
        )
        totals: dict[str, dict[str, list[Any]]] = {name: {} for name in BREAKDOWN_FIELDS}
        for row in rows:
            for dimension, field in BREAKDOWN_FIELDS.items():
                value = str(row[field])
                count, sgd, missing = totals[dimension].setdefault(value, [0, ZERO, 0])
                totals[dimension][value] = [
                    count + row["deals"],
                    sgd + (row["sgd"] or ZERO),
                    missing + row["missing"],
                ]
        return {
            dimension: _bucket_order(
                dimension,
                {
                    value: PipelineBucket(value, count, sgd.quantize(CENT, ROUND_HALF_UP), missing)
                    for value, (count, sgd, missing) in by_value.items()
                },
            )
            for dimension, by_value in totals.items()
        }

    def health_groups(self) -> dict[str, tuple[int, Decimal]]:
        """Deals and SGD total per health state, in one query (the board's group headings)."""
        rows = (
            self.order_by()
            .values_list("health_status")
            .annotate(deals=Count("pk"), sgd=Sum("amount_sgd"))
        )
        return {status: (deals, sgd or ZERO) for status, deals, sgd in rows}

    def filter_options(self) -> dict[str, list[Any]]:
        """The board's choices among these deals, in one pass over them (plus owners' names).

        `owners` as (id, name) by name; `territories`, `service_lines`, `currencies` sorted,
        blanks left out. One GROUP BY over the four fields together instead of four scans.
        """
        combos = (
            self.order_by()
            .values_list("owner_id", "territory", "service_line", "currency")
            .distinct()
        )
        owner_ids: set[int] = set()
        territories: set[str] = set()
        service_lines: set[str] = set()
        currencies: set[str] = set()
        for owner_id, territory, service_line, currency in combos:
            if owner_id is not None:
                owner_ids.add(owner_id)
            territories.add(territory)
            service_lines.add(service_line)
            currencies.add(currency)
        owners = CrmUser.objects.filter(pk__in=owner_ids).order_by("name", "pk")
        return {
            "owners": list(owners.values_list("pk", "name")),
            "territories": sorted(territories - {""}),
            "service_lines": sorted(service_lines - {""}),
            "currencies": sorted(currencies - {""}),
        }

    def stage_choices(self) -> list[str]:
        """Every stage a deal may be moved to: the mapped stages and those deals are in."""
        mapped = StageMapping.objects.values_list("stage", flat=True)
        in_use = Opportunity.objects.live().order_by().values_list("stage", flat=True).distinct()
        by_key = {stage.strip().lower(): stage.strip() for stage in [*in_use, *mapped]}
        return sorted(by_key.values(), key=str.lower)

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

    def visible_to(self, user: User | AnonymousUser) -> OpportunityQuerySet:
        """The live deals this login may see: everything, or a rep's own deals only."""
        role = role_of(user)
        if role in EVERY_LIVE_DEAL_ROLES:
            return self.live()
        if role is Role.REP:
            email = getattr(user, "email", "")
            if not email:
                return self.none()
            return self.live().filter(owner__email__iexact=email)
        return self.none()


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
