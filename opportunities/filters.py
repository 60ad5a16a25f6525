"""The deal filters people use: one FilterSet for the health board, its exports and the API.

Every filter lives in the query string (`?health=danger&closing=this_quarter&sort=-amount_sgd`)
so each state of the board has a URL, and the export of a board is the same query. Invalid
values are form errors, never a silently wider or narrower result.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from currency.codes import is_iso_code
from opportunities.changes_since import default_since, moved_since, slipped_since
from opportunities.models import (
    IN_PLAY_OUTCOMES,
    NOT_CONVERTED,
    Account,
    CrmUser,
    ForecastCategory,
    HealthStatus,
    Opportunity,
    OpportunityQuerySet,
    Outcome,
    Phase,
    revenue_not_recognised,
)
from opportunities.pipeline_review import with_forecast_category
from pipeline_pulse.dates import month_bounds, quarter_bounds, validate_business_date

CLOSING_WINDOWS = (
    ("overdue", "Overdue"),
    ("this_month", "This month"),
    ("this_quarter", "This quarter"),
    ("next_quarter", "Next quarter"),
    ("custom", "Custom dates"),
)

# Bands follow the lifecycle's own thresholds (<20, <50, <100) and the 80% "no PO" warning.
PROBABILITY_BANDS = {
    "0-19": (0, 19),
    "20-49": (20, 49),
    "50-79": (50, 79),
    "80-100": (80, 100),
}

SORTS = (
    ("closing_date", "closing_date"),
    ("amount_sgd", "amount_sgd"),
    ("probability", "probability"),
    ("name", "name"),
    ("account__name", "account"),
    ("owner__name", "owner"),
    ("phase", "phase"),
    ("health_rank", "health"),
    ("phase_entered_at", "phase_entered_at"),
    ("zoho_modified_time", "modified"),
)
DEFAULT_SORT = ("health_rank", "closing_date")
# The board's Sort menu and its sortable column headers, in the OrderingFilter's terms above.
SORTABLE_COLUMNS = {
    "name": "Deal",
    "owner": "Owner",
    "phase": "Phase",
    "amount_sgd": "SGD",
    "closing_date": "Closing",
}
SORT_CHOICES = (
    ("", "Worst health first"),
    ("closing_date", "Closing date, soonest first"),
    ("-closing_date", "Closing date, latest first"),
    ("-amount_sgd", "SGD amount, largest first"),
    ("amount_sgd", "SGD amount, smallest first"),
    ("-probability", "Probability, highest first"),
    ("name", "Deal name, A to Z"),
    ("owner", "Owner, A to Z"),
    ("-phase", "Phase, furthest first"),
    ("-modified", "Modified in Zoho, newest first"),
)


# The deal's own columns the search reads, each with a trigram index on PostgreSQL
# (migration 0010); account and owner names are matched in their own small tables first.
SEARCH_FIELDS = ("name", "stage", "zoho_id")
MAX_VALUES = 50


class TextListField(forms.Field):
    """Several values of one parameter (`?territory=A&territory=B`), each stripped."""

    widget = forms.SelectMultiple

    def __init__(self, *, max_length: int = 120, upper: bool = False, **kwargs: Any) -> None:
        self.max_length, self.upper = max_length, upper
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        values = [value] if isinstance(value, str) else list(value)
        cleaned = [str(item).strip() for item in values if str(item).strip()]
        if any("\x00" in item for item in cleaned):
            # As Django's CharField says it: PostgreSQL text cannot hold one.
            raise forms.ValidationError("Null characters are not allowed.")
        if len(cleaned) > MAX_VALUES:
            raise forms.ValidationError(f"Choose at most {MAX_VALUES} values.")
        if any(len(item) > self.max_length for item in cleaned):
            raise forms.ValidationError(f"A value is longer than {self.max_length} characters.")
        return [item.upper() for item in cleaned] if self.upper else cleaned


class CurrencyListField(TextListField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=3, upper=True, **kwargs)

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        bad = [code for code in value if not is_iso_code(code)]
        if bad:
            raise forms.ValidationError(f"Not an ISO 4217 currency code: {', '.join(bad)}.")


class StrictBooleanField(forms.Field):
    """`true` or `false` (any case), or empty for either; anything else is an error, never
    "no filter" (Django's NullBooleanField reads `maybe` and `1` as unset)."""

    widget = forms.TextInput
    VALUES = {"true": True, "false": False}

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in self.VALUES:
            raise forms.ValidationError("Use true or false.", code="invalid")
        return self.VALUES[text]


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class OwnerField(django_filters.fields.ModelMultipleChoiceField):
    """CRM user ids; an empty value is no filter, as for every other deal filter."""

    def clean(self, value: Any) -> Any:
        values = [value] if isinstance(value, str) else list(value or [])
        return super().clean([item for item in values if item != ""])


class OwnerFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = OwnerField


class ValuesFilter(django_filters.Filter):
    """Deals whose field has any of the given values; unknown values simply match nothing."""

    field_class = TextListField

    def filter(self, qs: Any, value: list[str]) -> Any:
        return qs.filter(**{f"{self.field_name}__in": value}) if value else qs


class CurrencyFilter(ValuesFilter):
    field_class = CurrencyListField


class PushCountFilter(django_filters.Filter):
    """Deals whose closing date was pushed out at least this many times."""

    field_class = forms.IntegerField

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_PUSHES, **kwargs)

    def filter(self, qs: Any, value: int | None) -> Any:
        return qs if value is None else qs.filter(closing_date_push_count__gte=value)


MAX_PUSHES = 999


class DealFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        since = cleaned.get("since")
        if since and since > timezone.localdate():
            self.add_error("since", "Choose a day up to today: changes are not known ahead.")
        # django-filter drops the empty items of `sort=,,` silently: a sort of nothing.
        getlist = getattr(self.data, "getlist", None)
        sorts = [
            sort for value in (getlist("sort") if getlist else []) for sort in value.split(",")
        ]
        if len(sorts) > 1 and "" in sorts:
            self.add_error("sort", "Separate sorts with single commas: health,-amount_sgd.")
        start, end = cleaned.get("closing_from"), cleaned.get("closing_to")
        if start and end and end < start:
            self.add_error("closing_to", "The end of the window is before its start.")
        return cleaned


class DealFilter(django_filters.FilterSet):
    """Filters, search and sort over the deals a login may see (pass `visible_to(...)`)."""

    q = django_filters.CharFilter(method="search", label="Search", max_length=100)
    # distinct=False throughout: no filter follows a to-many relation, and DISTINCT over every
    # column (health reasons included) costs more than the rest of a board query at 100k deals.
    owner = OwnerFilter(queryset=CrmUser.objects.all(), label="Owner", distinct=False)
    territory = ValuesFilter(label="Territory")
    service_line = ValuesFilter(label="Service line")
    currency = CurrencyFilter(label="Currency")
    phase = django_filters.MultipleChoiceFilter(
        choices=Phase.choices, label="Phase", distinct=False
    )
    health = django_filters.MultipleChoiceFilter(
        field_name="health_status", choices=HealthStatus.choices, label="Health", distinct=False
    )
    outcome = django_filters.MultipleChoiceFilter(
        choices=Outcome.choices, label="Outcome", distinct=False
    )
    closing = django_filters.ChoiceFilter(
        choices=CLOSING_WINDOWS, method="closing_window", label="Closing"
    )
    closing_from = django_filters.DateFilter(
        field_name="closing_date",
        lookup_expr="gte",
        label="Closing from",
        validators=[validate_business_date],
    )
    closing_to = django_filters.DateFilter(
        field_name="closing_date",
        lookup_expr="lte",
        label="Closing to",
        validators=[validate_business_date],
    )
    probability = django_filters.ChoiceFilter(
        choices=[(band, f"{band}%") for band in PROBABILITY_BANDS],
        method="probability_band",
        label="Probability",
    )
    strategic = StrictBooleanFilter(method="strategic_only", label="Strategic")
    requires_attention = StrictBooleanFilter(method="attention_only", label="Requires attention")
    # `converted=false`: deals with an amount but no SGD value, which totals leave out (the
    # dashboard's "not converted" figure links here).
    converted = StrictBooleanFilter(method="converted_only", label="Converted to SGD")
    # `recognised=false`: no revenue recognition date, or a future one (the dashboard's
    # "delivery at risk" is `outcome=won&health=danger&recognised=false`).
    recognised = StrictBooleanFilter(method="recognised_only", label="Revenue recognised")
    # The forecast's cells open the board on their deals: a category, a quarter's closing dates.
    forecast_category = django_filters.MultipleChoiceFilter(
        choices=ForecastCategory.choices, method="forecast_categories", label="Forecast category"
    )
    # Changes since a day (default: Monday of this week): `since` is the day the board's
    # markers look back to; `moved` and `slipped` filter on what moved since then.
    since = django_filters.DateFilter(
        method="since_day", label="Changes since", validators=[validate_business_date]
    )
    moved = StrictBooleanFilter(method="moved_only", label="Moved since")
    slipped = StrictBooleanFilter(method="slipped_only", label="Slipped since")
    pushed = PushCountFilter(field_name="closing_date_push_count", label="Pushed at least (times)")
    sort = django_filters.OrderingFilter(fields=SORTS, label="Sort")

    class Meta:
        model = Opportunity
        fields: list[str] = []
        form = DealFilterForm

    def __init__(self, data: Any = None, queryset: Any = None, **kwargs: Any) -> None:
        super().__init__(data, queryset, **kwargs)
        # Sorting by health means worst first: an annotation, not the column's text order.
        deals: OpportunityQuerySet = self.queryset  # type: ignore[has-type]
        self.queryset = deals.with_health_rank()

    @property
    def qs(self) -> OpportunityQuerySet:
        # Worst health first, soonest closing first, unless asked otherwise; the primary key
        # last keeps every sort stable, so a page never shows a row twice.
        result: OpportunityQuerySet = super().qs
        ordering = list(result.query.order_by) or list(DEFAULT_SORT)
        return result.order_by(*ordering, "pk")

    def search(self, queryset: OpportunityQuerySet, name: str, value: str) -> OpportunityQuerySet:
        """Deal name, stage or Zoho id, account name, or owner name or e-mail, any case.

        Matching accounts and owners become lists of ids: an OR of conditions that each
        have an index lets PostgreSQL combine index scans instead of reading every deal,
        which a join inside the OR would force.
        """
        text = value.strip()
        accounts = Account.objects.filter(name__icontains=text)
        owners = CrmUser.objects.filter(Q(name__icontains=text) | Q(email__icontains=text))
        condition = Q(account__in=_ids(accounts)) | Q(owner__in=_ids(owners))
        for field in SEARCH_FIELDS:
            condition |= Q(**{f"{field}__icontains": text})
        return queryset.filter(condition)

    def since_date(self) -> date:
        """The day changes are counted from: the URL's `since`, else Monday of this week."""
        cleaned = getattr(self.form, "cleaned_data", {}) or {}
        return cleaned.get("since") or default_since()

    def since_day(
        self, queryset: OpportunityQuerySet, name: str, value: date
    ) -> OpportunityQuerySet:
        return queryset  # not a filter by itself: `moved` and `slipped` read it

    def moved_only(
        self, queryset: OpportunityQuerySet, name: str, value: bool | None
    ) -> OpportunityQuerySet:
        if value is None:
            return queryset
        moved = moved_since(queryset.model.objects.all(), self.since_date()).values("pk")
        return queryset.filter(pk__in=moved) if value else queryset.exclude(pk__in=moved)

    def slipped_only(
        self, queryset: OpportunityQuerySet, name: str, value: bool | None
    ) -> OpportunityQuerySet:
        if value is None:
            return queryset
        slipped = slipped_since(queryset.model.objects.all(), self.since_date()).values("pk")
        return queryset.filter(pk__in=slipped) if value else queryset.exclude(pk__in=slipped)

    def closing_window(
        self, queryset: OpportunityQuerySet, name: str, value: str
    ) -> OpportunityQuerySet:
        today = timezone.localdate()
        if value == "overdue":
            return queryset.filter(outcome=Outcome.OPEN, closing_date__lt=today)
        if value == "custom":  # closing_from / closing_to do the filtering
            return queryset
        bounds: tuple[date, date] = {
            "this_month": month_bounds(today),
            "this_quarter": quarter_bounds(today),
            "next_quarter": quarter_bounds(today, offset=1),
        }[value]
        return queryset.filter(closing_date__range=bounds)

    def probability_band(
        self, queryset: OpportunityQuerySet, name: str, value: str
    ) -> OpportunityQuerySet:
        low, high = PROBABILITY_BANDS[value]
        return queryset.filter(probability__gte=low, probability__lte=high)

    def strategic_only(
        self, queryset: OpportunityQuerySet, name: str, value: bool | None
    ) -> OpportunityQuerySet:
        if value is None:
            return queryset
        condition = Opportunity.objects.strategic_condition()
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def converted_only(
        self, queryset: OpportunityQuerySet, name: str, value: bool | None
    ) -> OpportunityQuerySet:
        if value is None:
            return queryset
        return (
            queryset.filter(amount_sgd__isnull=False) if value else queryset.filter(NOT_CONVERTED)
        )

    def recognised_only(
        self, queryset: OpportunityQuerySet, name: str, value: bool | None
    ) -> OpportunityQuerySet:
        if value is None:
            return queryset
        not_recognised = revenue_not_recognised(timezone.localdate())
        return queryset.filter(not_recognised) if not value else queryset.exclude(not_recognised)

    def forecast_categories(
        self, queryset: OpportunityQuerySet, name: str, value: list[str]
    ) -> OpportunityQuerySet:
        if not value:
            return queryset
        categorised: OpportunityQuerySet = with_forecast_category(queryset).filter(
            forecast_category__in=value
        )
        return categorised

    def attention_only(
        self, queryset: OpportunityQuerySet, name: str, value: bool | None
    ) -> OpportunityQuerySet:
        if value is None:
            return queryset
        attention = Q(health_status=HealthStatus.DANGER)
        return queryset.filter(attention) if value else queryset.exclude(attention)


# What a sales director opens the board for: the deals still in play (models.IN_PLAY).
DEFAULT_OUTCOMES = [outcome.value for outcome in IN_PLAY_OUTCOMES]
# Parameters that page or order the board without choosing its deals.
NOT_FILTERS = {"page", "sort"}
# ...and those that change what a row shows, not which deals: the default view keeps them.
VIEW_ONLY = NOT_FILTERS | {"since"}


def board_query(params: QueryDict) -> tuple[QueryDict, bool]:
    """The filters in force: the URL's, or the default view when it sets none."""
    data = params.copy()
    is_default = not any(key not in VIEW_ONLY for key in data)
    if is_default:
        data.setlist("outcome", DEFAULT_OUTCOMES)
    return data, is_default


def _ids(rows: QuerySet[Any]) -> list[int]:
    return list(rows.order_by().values_list("pk", flat=True))


def normalised_board_query(params: QueryDict) -> str:
    """The board's query as a saved view keeps it: no page, no empty values, keys and each
    key's values in order, so the same filters always read the same."""
    pairs = sorted(
        (key, value)
        for key in params
        if key != "page"
        for value in params.getlist(key)
        if value.strip()
    )
    query = QueryDict(mutable=True)
    for key, value in pairs:
        query.appendlist(key, value.strip())
    return query.urlencode()
