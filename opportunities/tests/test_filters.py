"""The deal FilterSet: each filter narrows exactly, bad input is an error, sorting is stable."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.http import QueryDict

from opportunities.filters import DealFilter
from opportunities.models import Opportunity
from opportunities.tests.factories import AccountFactory, CrmUserFactory, OpportunityFactory

pytestmark = pytest.mark.django_db
# A Singapore Sunday in the last month of Q4.
TODAY = datetime(2026, 11, 29, 10, 0, tzinfo=ZoneInfo("Asia/Singapore"))


def _names(query: str, deals: Any = None) -> list[str]:
    filtered = DealFilter(QueryDict(query), queryset=deals or Opportunity.objects.live())
    assert filtered.is_valid(), filtered.errors
    return [deal.name for deal in filtered.qs]


def _errors(query: str) -> dict[str, Any]:
    filtered = DealFilter(QueryDict(query), queryset=Opportunity.objects.live())
    assert not filtered.is_valid()
    return dict(filtered.errors)


def test_values_of_one_field_are_alternatives() -> None:
    OpportunityFactory.create(name="sg", territory="Singapore", currency="SGD")
    OpportunityFactory.create(name="in", territory="India", currency="INR")
    OpportunityFactory.create(name="ph", territory="Philippines", currency="PHP")
    assert sorted(_names("territory=Singapore&territory=India")) == ["in", "sg"]
    assert _names("currency=inr") == ["in"]  # codes are upper-cased
    assert _names("territory=Atlantis") == []


def test_owner_phase_health_and_outcome() -> None:
    ana = CrmUserFactory.create()
    OpportunityFactory.create(name="a", owner=ana, phase=3, health_status="danger")
    OpportunityFactory.create(name="b", phase=3, health_status="warning", outcome="won")
    OpportunityFactory.create(name="c", phase=1, health_status="danger")
    assert _names(f"owner={ana.pk}") == ["a"]
    assert sorted(_names("phase=3")) == ["a", "b"]
    assert sorted(_names("health=danger")) == ["a", "c"]
    assert _names("outcome=won") == ["b"]
    assert _names("phase=3&health=danger") == ["a"]


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ("this_month", ["nov"]),
        ("this_quarter", ["oct", "nov"]),
        ("next_quarter", ["jan"]),
        ("overdue", ["oct"]),
    ],
)
def test_closing_windows_are_singapore_business_periods(window: str, expected: list[str]) -> None:
    for name, day in (
        ("oct", date(2026, 10, 5)),
        ("nov", date(2026, 11, 30)),
        ("jan", date(2027, 1, 31)),
        ("apr", date(2027, 4, 1)),
    ):
        OpportunityFactory.create(name=name, closing_date=day)
    OpportunityFactory.create(name="won-oct", closing_date=date(2026, 10, 1), outcome="won")
    names = _names(f"closing={window}", Opportunity.objects.open())
    assert sorted(names) == sorted(expected)


def test_a_custom_window_uses_its_dates_and_refuses_a_reversed_one() -> None:
    OpportunityFactory.create(name="in", closing_date=date(2026, 5, 10))
    OpportunityFactory.create(name="out", closing_date=date(2026, 6, 10))
    assert _names("closing=custom&closing_from=2026-05-01&closing_to=2026-05-31") == ["in"]
    assert "closing_to" in _errors("closing=custom&closing_from=2026-05-31&closing_to=2026-05-01")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("phase=9", "phase"),
        ("health=purple", "health"),
        ("closing=someday", "closing"),
        ("closing_from=yesterday", "closing_from"),
        ("probability=42", "probability"),
        ("currency=DOLLARS", "currency"),
        ("owner=999999", "owner"),
        ("sort=password", "sort"),
    ],
)
def test_bad_values_are_errors_not_silently_ignored(query: str, field: str) -> None:
    assert field in _errors(query)


def test_probability_bands() -> None:
    for probability in (0, 19, 20, 49, 50, 80, 100):
        OpportunityFactory.create(name=str(probability), probability=probability)
    assert sorted(_names("probability=0-19"), key=int) == ["0", "19"]
    assert sorted(_names("probability=80-100"), key=int) == ["80", "100"]


def test_strategic_means_a_big_sgd_amount_or_a_listed_account(settings: Any) -> None:
    settings.STRATEGIC_ACCOUNTS = ["Temasek Holdings"]
    OpportunityFactory.create(name="big", amount_sgd=Decimal("1000000.00"))
    OpportunityFactory.create(name="listed", account=AccountFactory.create(name="Temasek Holdings"))
    OpportunityFactory.create(name="small", amount_sgd=Decimal("999999.99"))
    assert sorted(_names("strategic=true")) == ["big", "listed"]
    assert _names("strategic=false") == ["small"]


def test_requires_attention_is_danger() -> None:
    OpportunityFactory.create(name="red", health_status="danger")
    OpportunityFactory.create(name="amber", health_status="warning")
    assert _names("requires_attention=true") == ["red"]
    assert _names("requires_attention=false") == ["amber"]


def test_search_looks_in_names_accounts_owners_and_ids() -> None:
    OpportunityFactory.create(name="Core banking", account=AccountFactory.create(name="DBS"))
    OpportunityFactory.create(
        name="Payroll", owner=CrmUserFactory.create(name="Priya Nair"), zoho_id="5725767999"
    )
    assert _names("q=dbs") == ["Core banking"]
    assert _names("q=priya") == ["Payroll"]
    assert _names("q=5725767999") == ["Payroll"]
    assert _names("q=%20%20") != []  # blank search filters nothing


def test_default_order_is_worst_health_first_then_soonest_closing() -> None:
    for name, health, day in (
        ("success-soon", "success", date(2026, 1, 1)),
        ("danger-late", "danger", date(2026, 3, 1)),
        ("danger-soon", "danger", date(2026, 2, 1)),
        ("neutral", "neutral", date(2025, 1, 1)),
        ("warning", "warning", date(2026, 6, 1)),
    ):
        OpportunityFactory.create(name=name, health_status=health, closing_date=day)
    assert _names("") == ["danger-soon", "danger-late", "warning", "success-soon", "neutral"]
    assert _names("sort=-closing_date")[0] == "warning"
    assert _names("sort=health")[0].startswith("danger")


def test_equal_sort_keys_keep_a_stable_order() -> None:
    deals = OpportunityFactory.create_batch(5, closing_date=date(2026, 5, 5))
    assert _names("sort=closing_date") == [deal.name for deal in deals]
