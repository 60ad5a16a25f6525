"""The pipeline review API: shape, the board's filters, bad parameters, a Rep's own deals, the
schema; and the same figures as the pages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from currency.tests.factories import ExchangeRateFactory
from opportunities.models import Opportunity
from opportunities.pipeline_review import forecast, waterfall
from opportunities.tests.factories import CrmUserFactory
from opportunities.tests.syncing import sync_new, sync_page

pytestmark = pytest.mark.django_db
SGT = ZoneInfo("Asia/Singapore")
TODAY = datetime(2026, 11, 25, 10, 0, tzinfo=SGT)
FORECAST = "/api/v1/pipeline/forecast/"
WATERFALL = "/api/v1/pipeline/waterfall/"
STEP_FIELDS = (
    "new_sgd",
    "increased_sgd",
    "decreased_sgd",
    "pulled_in_sgd",
    "pushed_out_sgd",
    "won_sgd",
    "lost_sgd",
    "deleted_sgd",
    "fx_sgd",
    "unexplained_sgd",
)


@pytest.fixture(autouse=True)
def _rates() -> None:
    for code, units in (("SGD", "1.30"), ("USD", "1")):
        ExchangeRateFactory.create(
            currency=code, units_per_usd=Decimal(units), as_of=datetime(2026, 9, 1, tzinfo=UTC)
        )


def _error(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    error: dict[str, Any] = response.json()["error"]
    return error


@pytest.fixture
def deals() -> dict[str, Opportunity]:
    with time_machine.travel(datetime(2026, 10, 2, 9, 0, tzinfo=SGT), tick=False):
        ana = CrmUserFactory.create(name="Ana", email="ana@example.com")
        ben = CrmUserFactory.create(name="Ben")
        made = {
            "ana_commit": sync_new(
                owner=ana, territory="SG", probability=85, closing_date=date(2026, 12, 1)
            ),
            "ana_usd": sync_new(
                owner=ana,
                territory="MY",
                currency="USD",
                amount=Decimal("100.00"),
                probability=55,
                closing_date=date(2026, 11, 30),
            ),
            "ben_won": sync_new(
                owner=ben,
                territory="SG",
                stage="Closed Won",
                probability=100,
                closing_date=date(2026, 10, 20),
            ),
            "ben_next": sync_new(owner=ben, probability=10, closing_date=date(2027, 1, 20)),
        }
    with time_machine.travel(datetime(2026, 11, 3, 9, 0, tzinfo=SGT), tick=False):
        sync_page({made["ben_next"]: {"closing_date": date(2026, 12, 15)}})
    return made


@time_machine.travel(TODAY, tick=False)
def test_forecast_shape_and_figures(deals: dict[str, Opportunity], manager_client: Client) -> None:
    response = manager_client.get(FORECAST, {"quarter": "2026Q4"})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "quarter",
        "categories",
        "deals",
        "not_converted_count",
        "by_owner",
        "by_territory",
    }
    assert body["quarter"] == "2026Q4"
    assert body["categories"] == {
        "closed": "10000.00",
        "commit": "10000.00",
        "best_case": "130.00",
        "pipeline": "10000.00",
        "omitted": "0.00",
    }
    assert body["deals"] == 4
    owners = {row["name"]: row for row in body["by_owner"]}
    assert owners["Ana"]["total_sgd"] == "10130.00"
    assert owners["Ben"]["categories"]["closed"] == "10000.00"
    assert set(owners["Ana"]) == {
        "key",
        "name",
        "categories",
        "total_sgd",
        "deals",
        "not_converted_count",
    }
    for rows in (body["by_owner"], body["by_territory"]):
        for category, total in body["categories"].items():
            assert sum(Decimal(r["categories"][category]) for r in rows) == Decimal(total)
    # The page shows the same figures.
    page = forecast(Opportunity.objects.live(), (date(2026, 10, 1), date(2026, 12, 31)))
    assert str(page.totals.cells["best_case"].amount_sgd) == body["categories"]["best_case"]


@time_machine.travel(TODAY, tick=False)
def test_forecast_honours_the_boards_filters(
    deals: dict[str, Opportunity], manager_client: Client
) -> None:
    body = manager_client.get(FORECAST, {"territory": "SG"}).json()
    assert body["categories"]["best_case"] == "0.00"
    assert body["categories"]["commit"] == "10000.00"
    body = manager_client.get(FORECAST, {"currency": "USD"}).json()
    assert body["deals"] == 1


@time_machine.travel(TODAY, tick=False)
def test_a_rep_sees_only_their_own_deals(deals: dict[str, Opportunity], rep_client: Client) -> None:
    CrmUserFactory.create(email=rep_client.user.email.upper(), name="Rep")  # type: ignore[attr-defined]
    Opportunity.objects.filter(pk=deals["ana_commit"].pk).update(
        owner=CrmUserFactory.create(email=rep_client.user.email)  # type: ignore[attr-defined]
    )
    body = rep_client.get(FORECAST).json()
    assert body["deals"] == 1
    assert body["categories"]["commit"] == "10000.00"
    assert body["categories"]["closed"] == "0.00"
    flow = rep_client.get(WATERFALL, {"start": "2026-10-01"}).json()
    assert flow["pulled_in_sgd"] == "0.00"


@time_machine.travel(TODAY, tick=False)
def test_waterfall_shape_and_steps_add_up(
    deals: dict[str, Opportunity], manager_client: Client
) -> None:
    response = manager_client.get(
        WATERFALL, {"quarter": "2026Q4", "start": "2026-10-05", "end": "2026-11-25"}
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "quarter",
        "start",
        "end",
        "start_open_sgd",
        *STEP_FIELDS,
        "end_open_sgd",
        "history_start",
        "starts_at_first_sync",
        "ends_before_history",
    }
    assert (body["quarter"], body["start"], body["end"]) == ("2026Q4", "2026-10-05", "2026-11-25")
    assert body["start_open_sgd"] == "10130.00"
    assert body["pulled_in_sgd"] == "10000.00"
    assert body["end_open_sgd"] == "20130.00"
    total = Decimal(body["start_open_sgd"]) + sum(Decimal(body[f]) for f in STEP_FIELDS)
    assert total == Decimal(body["end_open_sgd"])
    same = waterfall(
        Opportunity.objects.all(),
        (date(2026, 10, 1), date(2026, 12, 31)),
        date(2026, 10, 5),
        date(2026, 11, 25),
    )
    assert str(same.end_open_sgd) == body["end_open_sgd"]


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    ("url", "params", "parameter"),
    [
        (FORECAST, {"quarter": "2026Q5"}, "quarter"),
        (FORECAST, {"quarter": "next"}, "quarter"),
        (FORECAST, {"health": "purple"}, "health"),
        (WATERFALL, {"start": "2026-13-01"}, "start"),
        (WATERFALL, {"end": "2026-11-26"}, "end"),
        (WATERFALL, {"start": "2026-11-20", "end": "2026-11-01"}, "end"),
        (WATERFALL, {"quarter": "1999Q1"}, "quarter"),
    ],
)
def test_bad_parameters_are_400s_naming_the_parameter(
    manager_client: Client, url: str, params: dict[str, str], parameter: str
) -> None:
    error = _error(manager_client.get(url, params))
    assert parameter in error["details"]


def test_both_are_in_the_openapi_schema() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in (FORECAST, WATERFALL):
        operation = schema["paths"][path]["get"]
        names = {parameter["name"] for parameter in operation["parameters"]}
        assert {"quarter", "territory", "owner"} <= names
        assert "400" in operation["responses"]
    assert {"start", "end"} <= {p["name"] for p in schema["paths"][WATERFALL]["get"]["parameters"]}


def test_anonymous_calls_are_refused(client: Client) -> None:
    assert client.get(FORECAST).status_code in (401, 403)
    assert client.get(WATERFALL).status_code in (401, 403)
