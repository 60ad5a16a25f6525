"""The weekly digest's reads: last week's changes, deals in Danger, slipped deals and the
quarter's forecast for one login, with the same selectors (and so the same figures, to the
cent) as the What changed, dashboard and forecast screens.

Who gets one: Managers and Viewers unless they opted out; Reps and Admins only if they opted
in (a Rep's digest covers their own deals, as every screen does, through opportunities.access).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, F, Sum
from django.urls import reverse
from django.utils import timezone

from opportunities.access import changes_visible_to, deals_visible_to
from opportunities.models import (
    ChangeKind,
    EmailPreferences,
    ForecastCategory,
    HealthStatus,
    Opportunity,
    OpportunityQuerySet,
)
from opportunities.pipeline_review import CATEGORY_ORDER, Forecast, forecast, quarter_code
from opportunities.roles import Role, role_of
from opportunities.selectors import pipeline_summary
from opportunities.views.changes import BAD_KINDS, KIND_ORDER
from pipeline_pulse.dates import quarter_bounds, week_bounds

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The roles that get the digest unless they opt out (product.md); the others only if they opt in.
DIGEST_BY_DEFAULT_ROLES = frozenset({Role.MANAGER, Role.VIEWER})
# The health reason the rules give a deal whose closing date moved into a later quarter lately.
SLIPPED_REASON = "slipped"
ZERO = Decimal("0.00")


def site_url(path: str, **params: Any) -> str:
    """An absolute link for an e-mail: SITE_URL + the path (+ its query)."""
    query = f"?{urlencode(params, doseq=True)}" if params else ""
    return f"{settings.SITE_URL}{path}{query}"


def digest_week(now: datetime | None = None) -> tuple[date, date]:
    """The week a digest sent at `now` reports on: the Monday to Sunday (Singapore) before the
    week `now` falls in. Sent on Monday 8 Feb, it covers Monday 1 to Sunday 7 Feb."""
    today = timezone.localdate(now) if now else timezone.localdate()
    monday = week_bounds(today)[0] - timedelta(days=7)
    return monday, monday + timedelta(days=6)


def wants_weekly_digest(user: User) -> bool:
    """The login's own choice if it made one, else its role's default."""
    preferences = EmailPreferences.objects.filter(user=user).first()
    if preferences is not None:
        return preferences.weekly_digest
    return role_of(user) in DIGEST_BY_DEFAULT_ROLES


def weekly_digest_default(user: User) -> bool:
    return role_of(user) in DIGEST_BY_DEFAULT_ROLES


@dataclass(frozen=True, slots=True)
class KindLine:
    kind: str
    label: str
    count: int
    sgd: Decimal
    bad: bool


@dataclass(frozen=True, slots=True)
class DealLine:
    name: str
    account: str
    owner: str
    amount_sgd: Decimal | None
    closing_date: date | None
    reason: str
    url: str


@dataclass(frozen=True, slots=True)
class DealList:
    count: int
    sgd: Decimal
    deals: list[DealLine]

    @property
    def more(self) -> int:
        return self.count - len(self.deals)


@dataclass(frozen=True, slots=True)
class ForecastLine:
    category: str
    label: str
    deals: int
    sgd: Decimal
    not_converted: int


@dataclass(frozen=True, slots=True)
class Digest:
    """One login's weekly digest, every figure as its screen shows it."""

    user: Any
    role: Role | None
    week: tuple[date, date]
    sent_on: date
    changes: list[KindLine]
    total_changes: int
    danger: DealList
    slipped: DealList
    forecast: list[ForecastLine]
    forecast_total: ForecastLine
    quarter: tuple[date, date]
    links: dict[str, str]

    @property
    def quarter_label(self) -> str:
        return f"Q{(self.quarter[0].month - 1) // 3 + 1} {self.quarter[0].year}"

    @property
    def is_empty(self) -> bool:
        return not (self.total_changes or self.danger.count or self.slipped.count) and not (
            self.forecast_total.deals
        )


def _reason(deal: Opportunity, code: str | None = None) -> str:
    reasons = deal.health_reasons or []
    for reason in reasons:
        if isinstance(reason, dict) and (code is None or reason.get("code") == code):
            return str(reason.get("message", ""))
    return ""


def _deal_lines(deals: OpportunityQuerySet, top: int, *, code: str | None = None) -> DealList:
    totals = deals.order_by().aggregate(count=Count("pk"), sgd=Sum("amount_sgd"))
    listed = deals.select_related("account", "owner").order_by(
        F("amount_sgd").desc(nulls_last=True), "closing_date", "name", "pk"
    )[:top]
    return DealList(
        count=totals["count"],
        sgd=totals["sgd"] or ZERO,
        deals=[
            DealLine(
                name=deal.name,
                account=deal.account.name if deal.account else "",
                owner=deal.owner.name if deal.owner else "",
                amount_sgd=deal.amount_sgd,
                closing_date=deal.closing_date,
                reason=_reason(deal, code),
                url=site_url(reverse("deal", args=[deal.pk])),
            )
            for deal in listed
        ],
    )


def _forecast_line(category: str, cell: Any) -> ForecastLine:
    label = ForecastCategory(category).label if category else "All deals"
    return ForecastLine(category, str(label), cell.deals, cell.amount_sgd, cell.not_converted)


def slipped_deals(deals: OpportunityQuerySet) -> OpportunityQuerySet:
    """Open deals the health rules flag as slipped (a reason with code "slipped")."""
    return deals.open().filter(health_reasons__contains=[{"code": SLIPPED_REASON}])


def weekly_digest(user: User, *, now: datetime | None = None, top: int | None = None) -> Digest:
    """The digest a login gets at `now` (default: now), over the deals it may see."""
    top = settings.WEEKLY_DIGEST_TOP_DEALS if top is None else top
    sent_on = timezone.localdate(now) if now else timezone.localdate()
    week = digest_week(now)
    deals = deals_visible_to(user)

    # What changed last week: the What changed page's selector for the same days.
    totals = changes_visible_to(user).between(*week).totals_by_kind()
    kinds = [*KIND_ORDER, *sorted(set(totals) - set(KIND_ORDER))]
    changes = [
        KindLine(
            kind=kind,
            label=str(ChangeKind(kind).label) if kind in ChangeKind.values else kind,
            count=totals[kind][0],
            sgd=totals[kind][1],
            bad=kind in BAD_KINDS,
        )
        for kind in kinds
        if kind in totals
    ]

    # Deals in Danger: the dashboard's figure (open deals), and the biggest of them.
    summary = pipeline_summary(deals, today=sent_on)
    danger_list = _deal_lines(deals.open().filter(health_status=HealthStatus.DANGER), top)
    danger = DealList(summary.danger_count, summary.danger_sgd, danger_list.deals)

    slipped = _deal_lines(slipped_deals(deals), top, code=SLIPPED_REASON)

    # The quarter's forecast by category: the forecast page's totals row.
    quarter = quarter_bounds(sent_on)
    result: Forecast = forecast(deals, quarter)
    lines = [_forecast_line(c, result.totals.cells[c]) for c in CATEGORY_ORDER]
    total = _forecast_line("", result.totals.total)

    last_week = {"period": "last_week"}
    links = {
        "changes": site_url(reverse("changes"), **last_week),
        "dashboard": site_url(reverse("home")),
        "danger": site_url(reverse("board"), health=HealthStatus.DANGER.value, outcome="open"),
        "forecast": site_url(reverse("forecast"), quarter=quarter_code(quarter[0])),
        "settings": site_url(reverse("email_settings")),
    }
    return Digest(
        user=user,
        role=role_of(user),
        week=week,
        sent_on=sent_on,
        changes=changes,
        total_changes=sum(line.count for line in changes),
        danger=danger,
        slipped=slipped,
        forecast=lines,
        forecast_total=total,
        quarter=quarter,
        links=links,
    )


def digest_recipients(username: str | None = None) -> list[Any]:
    """Active logins with an e-mail address who want the digest, by username."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    if username is not None:
        users = users.filter(username=username)
    chosen = dict(
        EmailPreferences.objects.filter(user__in=users).values_list("user_id", "weekly_digest")
    )
    recipients = []
    for user in users.order_by("username"):
        role = role_of(user)
        if role is None:
            continue
        wanted = chosen.get(user.pk, role in DIGEST_BY_DEFAULT_ROLES)
        if wanted:
            recipients.append(user)
    return recipients


__all__ = [
    "DIGEST_BY_DEFAULT_ROLES",
    "Digest",
    "digest_recipients",
    "digest_week",
    "site_url",
    "slipped_deals",
    "wants_weekly_digest",
    "weekly_digest",
]
