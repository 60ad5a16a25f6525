"""Exchange rates from CurrencyFreaks, their history and the admins' overrides."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from simple_history.models import HistoricalRecords

from currency.codes import ISO_CODE_REGEX


class RateSource(models.TextChoices):
    """Where a rate came from; shown next to every converted amount."""

    API = "api", "CurrencyFreaks API"
    MANUAL = "manual", "Manual override"
    SEED = "seed", "Seed data"


class ConversionProblem(models.TextChoices):
    """Why an amount has no SGD value; never converted 1:1 instead."""

    NO_AMOUNT = "no_amount", "No amount"
    NO_CURRENCY = "no_currency", "No currency"
    NO_RATE = "no_rate", "No exchange rate"
    RATE_TOO_SMALL = "rate_too_small", "Rate too small to record"
    TOO_LARGE = "too_large", "SGD amount too large to record"


# Units per USD: CurrencyFreaks sends up to ~16 decimals ("0.9278605451274349"); 18 keep them
# exact, and 18 integer digits cover any currency's units per dollar.
RATE_MAX_DIGITS = 36
RATE_DECIMAL_PLACES = 18


class ExchangeRateQuerySet(models.QuerySet["ExchangeRate"]):
    def market(self) -> ExchangeRateQuerySet:
        """Rates from the API or the bundled seed; manual rows are the overrides' history."""
        return self.filter(source__in=(RateSource.API, RateSource.SEED))

    def latest_per_currency_and_source(self) -> ExchangeRateQuerySet:
        """The newest row of every (currency, source) pair, in one query."""
        return self.annotate(
            recency=Window(
                RowNumber(),
                partition_by=[F("currency"), F("source")],
                order_by=[F("as_of").desc(), F("id").desc()],
            )
        ).filter(recency=1)


class ExchangeRate(models.Model):
    """One rate as it was known: units of `currency` per USD at `as_of`, and where it came from.

    Rows are never deleted (a refetch of the same as-of only refreshes its value): they are
    the audit trail behind every SGD amount, and won deals look up the rate in force on their
    closing date here.
    """

    currency = models.CharField(max_length=3, help_text="ISO 4217 code, e.g. SGD.")
    units_per_usd = models.DecimalField(
        "units per USD", max_digits=RATE_MAX_DIGITS, decimal_places=RATE_DECIMAL_PLACES
    )
    as_of = models.DateTimeField(help_text="When the rate was valid, as its source says.")
    source = models.CharField(max_length=8, choices=RateSource.choices)
    override = models.ForeignKey(
        "RateOverride",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rates",
        help_text="The override this manual rate records.",
    )
    fetched_at = models.DateTimeField(
        default=timezone.now, help_text="When Pipeline Pulse last stored it."
    )

    objects = ExchangeRateQuerySet.as_manager()

    class Meta:
        ordering = ["-as_of", "currency"]
        indexes = [
            models.Index(fields=["currency", "source", "as_of"], name="fx_rate_currency_asof_idx"),
        ]
        constraints = [
            # A refresh that sees the same as-of again updates the row instead of duplicating it.
            models.UniqueConstraint(
                fields=["currency", "as_of", "source"], name="fx_rate_one_per_currency_asof"
            ),
            models.CheckConstraint(condition=Q(units_per_usd__gt=0), name="fx_rate_positive"),
            models.CheckConstraint(
                condition=Q(currency__regex=ISO_CODE_REGEX), name="fx_rate_currency_iso_code"
            ),
            models.CheckConstraint(
                condition=Q(source__in=RateSource.values), name="fx_rate_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(source=RateSource.MANUAL, override__isnull=False)
                | (~Q(source=RateSource.MANUAL) & Q(override__isnull=True)),
                name="fx_rate_manual_iff_override",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.units_per_usd.normalize()} per USD ({self.source})"


class RateOverrideQuerySet(models.QuerySet["RateOverride"]):
    def active(self) -> RateOverrideQuerySet:
        return self.filter(removed_at__isnull=True)


class RateOverride(models.Model):
    """An admin's rate for one currency, in force until removed; nothing here is ever deleted.

    It records who set it, when, why, and the rate it replaced; removal records who, when and
    why too. While active it beats every API rate, including those fetched after it.
    """

    currency = models.CharField(max_length=3, help_text="ISO 4217 code, e.g. INR.")
    units_per_usd = models.DecimalField(
        "units per USD",
        max_digits=RATE_MAX_DIGITS,
        decimal_places=RATE_DECIMAL_PLACES,
        help_text="Units of the currency per one US dollar, as CurrencyFreaks quotes them.",
    )
    reason = models.TextField(help_text="Why the API rate is not good enough.")
    # Set by the service, so the replaced override ends exactly when this one starts.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # PROTECT: an audit trail must not lose its author; deactivate logins instead.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    previous_units_per_usd = models.DecimalField(
        "previous units per USD",
        max_digits=RATE_MAX_DIGITS,
        decimal_places=RATE_DECIMAL_PLACES,
        null=True,
        blank=True,
        help_text="The rate in effect before this override (empty: there was none).",
    )
    previous_source = models.CharField(max_length=8, choices=RateSource.choices, blank=True)
    previous_as_of = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    removal_reason = models.TextField(blank=True)

    objects = RateOverrideQuerySet.as_manager()
    # Who set or removed it, when, and every value it had (audit of FX overrides).
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["currency"],
                condition=Q(removed_at__isnull=True),
                name="fx_override_one_active_per_currency",
            ),
            models.CheckConstraint(condition=Q(units_per_usd__gt=0), name="fx_override_positive"),
            models.CheckConstraint(
                condition=Q(currency__regex=ISO_CODE_REGEX), name="fx_override_currency_iso_code"
            ),
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True, removed_by__isnull=True, removal_reason="")
                | Q(removed_at__isnull=False, removed_by__isnull=False),
                name="fx_override_removal_complete",
            ),
        ]

    def __str__(self) -> str:
        state = "active" if self.is_active else "removed"
        return f"{self.currency} {self.units_per_usd.normalize()} per USD ({state})"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class CurrentRate(ExchangeRate):
    """The admin's "current rates" page: the rate in effect per currency and its staleness."""

    class Meta:
        proxy = True
        verbose_name = "current rate"
