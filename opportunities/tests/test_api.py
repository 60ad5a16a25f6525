"""The deal API: the board's filters and scope, the edit, the pipeline figures, what changed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from opportunities.access import deals_visible_to
from opportunities.api.serializers import OpportunityEditSerializer
from opportunities.deal_fields import EDITABLE_FIELDS
from opportunities.models import ChangeEvent, ChangeKind, Opportunity
from opportunities.selectors import pipeline_summary
from opportunities.tests.factories import CrmUserFactory, OpportunityFactory
from opportunities.tests.syncing import sync_new

pytestmark = pytest.mark.django_db
SGT = ZoneInfo("Asia/Singapore")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SGT)  # a Wednesday in Q4 2026
DEALS = "/api/v1/opportunities/"


def _error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    error: dict[str, Any] = body["error"]
    return error


def _rep_owner(client: Client) -> Any:
    return CrmUserFactory.create(email=client.user.email.upper())  # type: ignore[attr-defined]


# --- List, filters, paging -----------------------------------------------------------------------


def test_the_list_is_the_boards_worst_health_first_with_money_as_strings(
    manager_client: Client,
) -> None:
    fine = OpportunityFactory.create(health_status="success", amount_sgd=Decimal("10.50"))
    bad = OpportunityFactory.create(health_status="danger")
    OpportunityFactory.create(is_deleted=True)

    body = manager_client.get(DEALS).json()

    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [bad.pk, fine.pk]
    assert body["results"][1]["amount_sgd"] == "10.50"
    assert body["results"][1]["account"]["id"] == fine.account_id


def test_filters_search_and_sort_use_the_boards_names(manager_client: Client) -> None:
    small = OpportunityFactory.create(territory="SEA", amount_sgd=Decimal("5"), name="Alpha")
    big = OpportunityFactory.create(territory="SEA", amount_sgd=Decimal("900"), name="Beta")
    OpportunityFactory.create(territory="ANZ", name="Alpha two")

    def ids(query: str) -> list[int]:
        return [row["id"] for row in manager_client.get(f"{DEALS}?{query}").json()["results"]]

    assert ids("territory=SEA&sort=-amount_sgd") == [big.pk, small.pk]
    assert ids("territory=SEA&sort=amount_sgd") == [small.pk, big.pk]
    assert ids("q=alpha&territory=SEA") == [small.pk]


def test_a_bad_filter_is_a_400_naming_it(manager_client: Client) -> None:
    response = manager_client.get(f"{DEALS}?closing=someday&probability=7")
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "invalid"
    assert set(error["details"]) == {"closing", "probability"}


def test_pages_are_bounded_and_cost_the_same_queries_at_any_size(
    manager_client: Client, django_assert_max_num_queries: Any
) -> None:
    OpportunityFactory.create_batch(3)
    with django_assert_max_num_queries(6) as small:
        manager_client.get(f"{DEALS}?page_size=2")
    OpportunityFactory.create_batch(30)
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = manager_client.get(f"{DEALS}?page_size=1000").json()
    assert (body["count"], len(body["results"])) == (33, 33)  # 1000 is capped at 200
    assert manager_client.get(f"{DEALS}?page_size=0").status_code == 400
    assert manager_client.get(f"{DEALS}?page=9").status_code == 404


def test_a_rep_lists_and_reads_only_its_own_deals(rep_client: Client) -> None:
    own = OpportunityFactory.create(owner=_rep_owner(rep_client))
    other = OpportunityFactory.create()

    assert [row["id"] for row in rep_client.get(DEALS).json()["results"]] == [own.pk]
    assert rep_client.get(f"{DEALS}{own.pk}/").status_code == 200
    response = rep_client.get(f"{DEALS}{other.pk}/")
    assert response.status_code == 404  # not 403: the deal's existence does not leak
    assert _error(response)["code"] == "not_found"


def test_a_deal_shows_every_field_with_its_health_reasons(viewer_client: Client) -> None:
    reasons = [{"code": "closing_passed", "severity": "danger", "message": "Closing date passed"}]
    deal = OpportunityFactory.create(health_status="danger", health_reasons=reasons)

    body = viewer_client.get(f"{DEALS}{deal.pk}/").json()

    assert body["health_reasons"] == reasons
    assert body["requires_attention"] is True
    assert {"fx_rate", "po_received_on", "days_in_phase", "pending_fields"} <= set(body)
    assert body["refused_values"] == {}
    assert body["push_errors"] == {}
    assert body["zoho_unreadable"] == ""


def test_a_deal_shows_what_it_holds_back(viewer_client: Client) -> None:
    deal = OpportunityFactory.create(
        refused_values={"amount": "99999999999999.99"},
        push_errors={"amount": "Amount is beyond what Zoho accepts."},
        zoho_unreadable="Deal_Name: longer than 120 characters",
    )

    body = viewer_client.get(f"{DEALS}{deal.pk}/").json()

    assert body["refused_values"] == {"amount": "99999999999999.99"}
    assert body["push_errors"] == {"amount": "Amount is beyond what Zoho accepts."}
    assert body["zoho_unreadable"] == "Deal_Name: longer than 120 characters"


# --- Edit -------------------------------------------------------------------------------------


def test_the_edit_input_is_exactly_the_catalogues_editable_fields() -> None:
    assert set(OpportunityEditSerializer().fields) == set(EDITABLE_FIELDS)


@time_machine.travel(NOW, tick=False)
def test_a_manager_edits_a_deal_and_the_fields_are_pending(manager_client: Client) -> None:
    deal = sync_new(stage="Needs Analysis", probability=40, closing_date=date(2027, 1, 15))

    response = manager_client.patch(
        f"{DEALS}{deal.pk}/",
        {"closing_date": "2027-02-01", "po_received_on": "2026-11-20", "amount": "2500.50"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["pending_fields"] == ["amount", "closing_date", "po_received_on"]
    assert (body["phase"], body["amount_sgd"]) == (4, "2500.50")  # a PO means Revenue
    deal.refresh_from_db()
    assert deal.closing_date == date(2027, 2, 1)


def test_a_rep_edits_its_own_deal_but_not_anothers(rep_client: Client) -> None:
    own = sync_new(owner=_rep_owner(rep_client), probability=10)
    other = sync_new(probability=10)

    own_response = rep_client.patch(
        f"{DEALS}{own.pk}/", {"probability": 30}, content_type="application/json"
    )
    other_response = rep_client.patch(
        f"{DEALS}{other.pk}/", {"probability": 30}, content_type="application/json"
    )

    assert own_response.status_code == 200
    assert other_response.status_code == 404
    other.refresh_from_db()
    assert other.probability == 10


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"probability": 150}, "probability", "less than or equal to 100"),
        ({"amount": "-1"}, "amount", "greater than or equal to 0"),
        ({"amount": "1.234"}, "amount", "2 decimal places"),
        ({"closing_date": "31/12/2026"}, "closing_date", "YYYY-MM-DD"),
        ({"closing_date": None}, "closing_date", "may not be null"),
        ({"currency": "dollars"}, "currency", "ISO 4217"),
        ({"stage": "Dreaming"}, "stage", "not a stage"),
        ({"name": "Renamed"}, "name", "cannot be edited"),
        ({"colour": "red"}, "colour", "Not a field"),
    ],
)
def test_bad_edits_are_400s_that_name_the_field_and_change_nothing(
    manager_client: Client, changes: dict[str, Any], field: str, message: str
) -> None:
    deal = sync_new(probability=10)
    response = manager_client.patch(f"{DEALS}{deal.pk}/", changes, content_type="application/json")

    assert response.status_code == 400
    error = _error(response)
    assert list(error["details"]) == [field]
    assert message in error["details"][field][0]
    assert message in error["message"]
    deal.refresh_from_db()
    assert deal.pending_fields == []


def test_a_body_that_is_not_an_object_is_a_400(manager_client: Client) -> None:
    deal = sync_new()
    for body in ("[1, 2]", "{not json"):
        response = manager_client.patch(f"{DEALS}{deal.pk}/", body, content_type="application/json")
        assert response.status_code == 400
        assert _error(response)["code"] in {"invalid", "parse_error"}


# --- Pipeline figures --------------------------------------------------------------------------


def _pipeline() -> list[Opportunity]:
    return [
        OpportunityFactory.create(amount_sgd=Decimal("1000.10"), probability=10),
        OpportunityFactory.create(
            amount_sgd=Decimal("333.33"), probability=33, health_status="danger"
        ),
        OpportunityFactory.create(amount=Decimal("5"), amount_sgd=None, probability=50),
        OpportunityFactory.create(
            outcome="won", amount_sgd=Decimal("9000.00"), closing_date=date(2026, 10, 1)
        ),
        OpportunityFactory.create(
            outcome="won", amount_sgd=Decimal("1000.00"), closing_date=date(2026, 9, 30)
        ),
        OpportunityFactory.create(
            outcome="lost",
            amount_sgd=Decimal("77.00"),
            territory="X",
            closing_date=date(2026, 11, 2),
        ),
        OpportunityFactory.create(
            outcome="won",
            amount_sgd=Decimal("250.00"),
            closing_date=date(2026, 6, 1),
            health_status="danger",
        ),
    ]


def _cents(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), ROUND_HALF_UP))


def _sgd(deals: list[Opportunity]) -> Decimal:
    return sum((Decimal(d.amount_sgd or 0) for d in deals), Decimal(0))


@time_machine.travel(NOW, tick=False)
def test_the_summary_equals_an_independent_sum_of_the_deals(admin_client_: Client) -> None:
    deals = _pipeline()
    open_deals = [d for d in deals if d.outcome == "open"]
    won = [d for d in deals if d.outcome == "won"]
    lost = [d for d in deals if d.outcome == "lost"]
    danger = [d for d in open_deals if d.health_status == "danger"]
    delivery_risk = [d for d in won if d.health_status == "danger"]
    in_quarter = [d for d in deals if d.closing_date and d.closing_date >= date(2026, 10, 1)]
    won_this_quarter = [d for d in won if d in in_quarter]
    lost_this_quarter = [d for d in lost if d in in_quarter]
    weighted = sum(
        (Decimal(d.amount_sgd or 0) * (d.probability or 0) / 100 for d in open_deals), Decimal(0)
    )
    expected = {
        "open_pipeline_sgd": _cents(_sgd(open_deals)),
        "weighted_pipeline_sgd": _cents(weighted),
        "won_this_quarter_sgd": _cents(_sgd(won_this_quarter)),
        "danger_count": len(danger),
        "danger_sgd": _cents(_sgd(danger)),
        "delivery_risk_count": len(delivery_risk),
        "delivery_risk_sgd": _cents(_sgd(delivery_risk)),
        "won_quarter_count": len(won_this_quarter),
        "closed_quarter_count": len(won_this_quarter) + len(lost_this_quarter),
        "win_rate": str(
            (
                Decimal(len(won_this_quarter)) / (len(won_this_quarter) + len(lost_this_quarter))
            ).quantize(Decimal("0.0001"))
        ),
        "average_deal_sgd": _cents(_sgd(won_this_quarter) / len(won_this_quarter)),
        "not_convertible_count": 1,
        "quarter_start": "2026-10-01",
        "quarter_end": "2026-12-31",
    }

    body = admin_client_.get("/api/v1/pipeline/summary/").json()

    assert body == expected
    # ...and the dashboard's own figures for the same login agree.
    dashboard = pipeline_summary(deals_visible_to(admin_client_.user))  # type: ignore[attr-defined]
    assert body["open_pipeline_sgd"] == str(dashboard.open_pipeline_sgd)
    assert body["weighted_pipeline_sgd"] == str(dashboard.weighted_pipeline_sgd)
    assert body["win_rate"] == str(dashboard.win_rate)


@time_machine.travel(NOW, tick=False)
def test_the_summary_takes_the_dashboards_quarter(admin_client_: Client) -> None:
    _pipeline()

    q3 = admin_client_.get("/api/v1/pipeline/summary/?quarter=2026q3").json()
    bad = admin_client_.get("/api/v1/pipeline/summary/?quarter=2026Q5")

    assert (q3["quarter_start"], q3["quarter_end"]) == ("2026-07-01", "2026-09-30")
    assert q3["won_this_quarter_sgd"] == "1000.00"
    assert bad.status_code == 400
    assert "2027Q1" in str(bad.json())


@time_machine.travel(NOW, tick=False)
def test_the_summary_follows_the_filters_and_the_reps_scope(rep_client: Client) -> None:
    _pipeline()
    OpportunityFactory.create(owner=_rep_owner(rep_client), amount_sgd=Decimal("42.00"))
    OpportunityFactory.create(
        owner=_rep_owner(rep_client), amount_sgd=Decimal("8.00"), territory="North"
    )

    mine = rep_client.get("/api/v1/pipeline/summary/").json()
    north = rep_client.get("/api/v1/pipeline/summary/?territory=North").json()

    assert mine["open_pipeline_sgd"] == "50.00"
    assert north["open_pipeline_sgd"] == "8.00"
    assert rep_client.get("/api/v1/pipeline/summary/?health=bad").status_code == 400


def test_the_health_summary_counts_and_sums_every_state(viewer_client: Client) -> None:
    OpportunityFactory.create(health_status="danger", amount_sgd=Decimal("10.00"))
    OpportunityFactory.create(health_status="danger", amount=Decimal("3"), amount_sgd=None)
    OpportunityFactory.create(health_status="success", amount_sgd=Decimal("2.50"))

    body = viewer_client.get("/api/v1/pipeline/health/").json()

    assert [state["health_status"] for state in body["states"]] == [
        "danger",
        "warning",
        "success",
        "neutral",
    ]
    danger, warning = body["states"][0], body["states"][1]
    assert (danger["count"], danger["amount_sgd"], danger["not_convertible_count"]) == (
        2,
        "10.00",
        1,
    )
    assert (warning["count"], warning["amount_sgd"]) == (0, "0.00")
    assert (body["total_count"], body["total_sgd"]) == (3, "12.50")


# --- What changed --------------------------------------------------------------------------------


def _event(deal: Opportunity, when: datetime, kind: str = ChangeKind.NEW) -> ChangeEvent:
    return ChangeEvent.objects.create(opportunity=deal, kind=kind, occurred_at=when)


@time_machine.travel(NOW, tick=False)
def test_change_events_default_to_this_week_in_the_logins_scope(rep_client: Client) -> None:
    own = OpportunityFactory.create(owner=_rep_owner(rep_client))
    this_week = _event(own, NOW - timedelta(days=2))  # Monday
    _event(own, NOW - timedelta(days=3))  # last Sunday
    _event(OpportunityFactory.create(), NOW)  # another rep's deal

    body = rep_client.get("/api/v1/change-events/").json()

    assert [row["id"] for row in body["results"]] == [this_week.pk]
    assert body["results"][0]["opportunity_name"] == own.name


@time_machine.travel(NOW, tick=False)
def test_change_events_of_a_period_and_kinds(manager_client: Client) -> None:
    deal = OpportunityFactory.create()
    won = _event(deal, datetime(2026, 11, 2, 9, tzinfo=SGT), ChangeKind.WON)
    _event(deal, datetime(2026, 11, 2, 10, tzinfo=SGT), ChangeKind.NEW)
    _event(deal, datetime(2026, 11, 4, 0, 0, tzinfo=SGT), ChangeKind.WON)

    url = "/api/v1/change-events/?start=2026-11-01&end=2026-11-03&kind=won&kind=lost"
    assert [row["id"] for row in manager_client.get(url).json()["results"]] == [won.pk]
    response = manager_client.get("/api/v1/change-events/?start=2026-11-03&end=2026-11-01")
    assert response.status_code == 400
    assert list(_error(response)["details"]) == ["end"]
