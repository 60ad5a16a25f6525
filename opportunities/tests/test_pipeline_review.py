"""Pipeline review: forecast categories, the quarter's forecast, the waterfall and the FX
what-if, each checked against figures worked out here from the deals the test makes."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from currency.client import UsdRates
from currency.conversion import sgd_converter
from currency.services import fx_rates_store
from currency.tests.factories import ExchangeRateFactory
from opportunities.data_version import deals_changed
from opportunities.exports_xlsx import XLSX_CONTENT_TYPE
from opportunities.models import CrmStage, ForecastType, Opportunity, PipelineMove, StageMapping
from opportunities.pipeline_review import (
    ReviewForm,
    category_by_probability,
    forecast,
    forecast_category_of,
    fx_what_if,
    parse_quarter,
    stage_categories,
    waterfall,
)
from opportunities.services.crm import opportunities_mark_deleted
from opportunities.tests.factories import CrmUserFactory, OpportunityFactory
from opportunities.tests.syncing import sync_new, sync_page

pytestmark = pytest.mark.django_db
SGT = ZoneInfo("Asia/Singapore")
# History starts on Thursday 1 October 2026 (Q4 2026); "today" is 20 October.
FIRST_SYNC = datetime(2026, 10, 1, 9, 0, tzinfo=SGT)
TODAY = datetime(2026, 10, 20, 15, 0, tzinfo=SGT)
Q4 = (date(2026, 10, 1), date(2026, 12, 31))
Q1 = (date(2027, 1, 1), date(2027, 3, 31))
CENT = Decimal("0.01")


@pytest.fixture
def rates() -> None:
    for code, units in (("SGD", "1.30"), ("USD", "1"), ("EUR", "0.90")):
        ExchangeRateFactory.create(
            currency=code, units_per_usd=Decimal(units), as_of=datetime(2026, 9, 1, tzinfo=UTC)
        )


def _sgd(amount: str, units: str) -> Decimal:
    """amount in a currency with `units` per USD, in SGD at 1.30 per USD, half-up to cents."""
    return (Decimal(amount) * Decimal("1.30") / Decimal(units)).quantize(CENT, ROUND_HALF_UP)


# --- Categories ----------------------------------------------------------------------------------


def test_probability_bands() -> None:
    assert [category_by_probability(p) for p in (None, 0, 49, 50, 79, 80, 100)] == [
        "pipeline",
        "pipeline",
        "pipeline",
        "best_case",
        "best_case",
        "commit",
        "commit",
    ]


def test_zoho_category_then_admin_override_then_probability(rates: None) -> None:
    CrmStage.objects.create(
        name="Negotiation/Review", forecast_type=ForecastType.OPEN, forecast_category="Committed"
    )
    CrmStage.objects.create(
        name="Proposal/Price Quote", forecast_type=ForecastType.OPEN, forecast_category="Best Case"
    )
    CrmStage.objects.create(
        name="Strong upside", forecast_type=ForecastType.OPEN, forecast_category="Upside"
    )
    CrmStage.objects.create(
        name="Id. Decision Makers", forecast_type=ForecastType.OPEN, forecast_category="Pipeline"
    )
    StageMapping.objects.update_or_create(
        stage="Id. Decision Makers", defaults={"phase": 2, "forecast_category": "commit"}
    )
    categories = stage_categories()
    # Zoho's category whatever the probability; a custom one falls back on the probability;
    # an admin's override beats Zoho's.
    cases = [
        ("Negotiation/Review", 10, "open", "commit"),
        ("proposal/price quote ", 95, "open", "best_case"),
        ("Strong upside", 85, "open", "commit"),
        ("Strong upside", 55, "open", "best_case"),
        ("Id. Decision Makers", 5, "open", "commit"),
        ("Qualification", 49, "open", "pipeline"),
        ("Negotiation/Review", 90, "won", "closed"),
        ("Negotiation/Review", 90, "lost", "omitted"),
    ]
    for stage, probability, outcome, expected in cases:
        got = forecast_category_of(
            outcome=outcome, stage=stage, probability=probability, categories=categories
        )
        assert got == expected, (stage, probability, outcome)
    # The database computes the same: one deal per case, each its own owner.
    made = {}
    for index, (stage, probability, outcome, expected) in enumerate(cases):
        deal = OpportunityFactory.create(
            stage=stage,
            probability=probability,
            outcome=outcome,
            closing_date=date(2026, 11, 1),
            amount_sgd=Decimal(index + 1),
        )
        made[str(deal.owner_id)] = expected
    result = forecast(Opportunity.objects.all(), Q4)
    for row in result.by_owner:
        assert [c for c, cell in row.cells.items() if cell.deals] == [made[row.key]]


def test_quarters_parse_and_bad_ones_say_why() -> None:
    assert parse_quarter("2027Q1") == Q1
    assert parse_quarter("2026-q4") == Q4
    for bad in ("2027Q5", "27Q1", "Q1 2027", "", "1999Q4"):
        with pytest.raises(ValueError, match="quarter"):
            parse_quarter(bad)


def test_review_form_defaults_and_errors() -> None:
    today = date(2026, 10, 20)
    form = ReviewForm({}, today=today)
    assert form.is_valid()
    assert (form.cleaned_data["quarter"], form.cleaned_data["start"], form.cleaned_data["end"]) == (
        Q4,
        date(2026, 10, 1),
        today,
    )
    ahead = ReviewForm({"quarter": "2027Q1"}, today=today)
    assert ahead.is_valid()
    assert ahead.cleaned_data["start"] == today
    for data, field in (
        ({"quarter": "2027Q9"}, "quarter"),
        ({"start": "2026-10-10", "end": "2026-10-01"}, "end"),
        ({"end": "2026-10-21"}, "end"),
        ({"start": "yesterday"}, "start"),
        ({"fx_currency": "SGD", "fx_percent": "5"}, "fx_currency"),
        ({"fx_currency": "USD"}, "fx_percent"),
        ({"fx_currency": "USD", "fx_percent": "-100"}, "fx_percent"),
    ):
        form = ReviewForm(data, today=today)
        assert not form.is_valid(), data
        assert field in form.errors, data


# --- The forecast --------------------------------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_forecast_totals_owners_territories_add_up(rates: None) -> None:
    ana, ben = CrmUserFactory.create(name="Ana"), CrmUserFactory.create(name="Ben")
    specs = [
        # owner, territory, currency, amount, probability, outcome, closing
        (ana, "SG", "SGD", "1000.00", 85, "open", date(2026, 11, 3)),
        (ana, "SG", "USD", "333.33", 60, "open", date(2026, 12, 31)),
        (ana, "MY", "EUR", "100.00", 10, "open", date(2026, 10, 1)),
        (ben, "MY", "SGD", "2500.00", 100, "won", date(2026, 10, 15)),
        (ben, "", "SGD", "700.00", 0, "lost", date(2026, 11, 20)),
        (ben, "SG", "XOF", "5000.00", 90, "open", date(2026, 11, 5)),  # no rate for XOF
        (ben, "SG", "SGD", "9999.00", 85, "open", date(2027, 1, 1)),  # next quarter
        (None, "MY", "SGD", "50.00", 50, "open", date(2026, 12, 1)),
    ]
    for owner, territory, currency, amount, probability, outcome, closing in specs:
        sync_new(
            owner=owner,
            territory=territory,
            currency=currency,
            amount=Decimal(amount),
            probability=probability,
            stage={"won": "Closed Won", "lost": "Closed Lost"}.get(outcome, "Qualification"),
            closing_date=closing,
        )
    result = forecast(Opportunity.objects.live(), Q4)

    totals = {c: cell.amount_sgd for c, cell in result.totals.cells.items()}
    assert totals == {
        "closed": Decimal("2500.00"),
        "commit": Decimal("1000.00"),
        "best_case": _sgd("333.33", "1") + Decimal("50.00"),
        "pipeline": _sgd("100.00", "0.90"),
        "omitted": Decimal("700.00"),
    }
    assert result.totals.total.deals == 7
    assert result.not_converted == 1  # the XOF deal: counted, not summed
    assert result.totals.cells["commit"].not_converted == 1
    for rows in (result.by_owner, result.by_territory):
        for category in totals:
            assert sum((r.cells[category].amount_sgd for r in rows), Decimal(0)) == totals[category]
        assert sum(r.total.deals for r in rows) == 7
    by_owner = {row.label: row.total.amount_sgd for row in result.by_owner}
    assert by_owner == {
        "Ana": Decimal("1000.00") + _sgd("333.33", "1") + _sgd("100.00", "0.90"),
        "Ben": Decimal("3200.00"),
        "No owner": Decimal("50.00"),
    }
    assert [row.label for row in result.by_territory][-1] == "No territory"


@time_machine.travel(TODAY, tick=False)
def test_each_forecast_cell_opens_exactly_its_deals_on_the_board(
    rates: None, manager_client: Client
) -> None:
    ana = CrmUserFactory.create(name="Ana")
    commit = sync_new(owner=ana, territory="SG", probability=90, closing_date=date(2026, 11, 1))
    sync_new(owner=ana, territory="SG", probability=90, closing_date=date(2027, 2, 1))
    sync_new(owner=ana, territory="MY", probability=90, closing_date=date(2026, 11, 2))
    sync_new(owner=ana, territory="SG", probability=20, closing_date=date(2026, 11, 3))

    response = manager_client.get("/forecast/?quarter=2026Q4")

    assert response.status_code == 200
    territory_sg = next(r for r in response.context["by_territory"] if r["label"] == "SG")
    url = next(c["url"] for c in territory_sg["cells"] if c["category"] == "commit")
    board = manager_client.get(url)
    assert board.status_code == 200
    assert [deal.pk for deal in board.context["page"].object_list] == [commit.pk]


@time_machine.travel(TODAY, tick=False)
def test_forecast_page_says_what_is_wrong_with_a_bad_quarter(manager_client: Client) -> None:
    response = manager_client.get("/forecast/?quarter=2027Q7")
    assert response.status_code == 400
    assert "quarter" in response.content.decode()
    assert response["Vary"].count("HX-Request") == 1


# --- The waterfall -------------------------------------------------------------------------------


def _at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 10, day, hour, 0, tzinfo=SGT)


@pytest.fixture
def history(rates: None) -> Iterator[dict[str, Any]]:
    """A first sync on 1 October, then one change a day; every step's figure known here."""
    with time_machine.travel(FIRST_SYNC, tick=False) as clock:
        made = {
            name: sync_new(
                name=name,
                amount=Decimal(amount),
                currency=currency,
                closing_date=closing,
                zoho_created_time=datetime(2026, 6, 1, tzinfo=UTC),
                synced_at=FIRST_SYNC,
            )
            for name, amount, currency, closing in (
                ("Grows", "1000.00", "SGD", date(2026, 11, 1)),
                ("Slips", "2000.00", "SGD", date(2026, 12, 1)),
                ("Comes in", "3000.00", "SGD", date(2027, 1, 15)),
                ("Dollars", "1000.00", "USD", date(2026, 11, 15)),
                ("Wins", "500.00", "SGD", date(2026, 12, 10)),
                ("Loses", "800.00", "SGD", date(2026, 10, 30)),
                ("Vanishes", "900.00", "SGD", date(2026, 11, 30)),
                ("Next year", "4000.00", "SGD", date(2027, 2, 1)),
            )
        }

        def sync(day: int, deal: str, **changes: Any) -> None:
            clock.move_to(_at(day))
            sync_page({made[deal]: changes}, synced_at=_at(day))

        clock.move_to(_at(5))
        made["New"] = sync_new(
            name="New",
            amount=Decimal("700.00"),
            closing_date=date(2026, 12, 20),
            zoho_created_time=_at(5, 9),
            synced_at=_at(5),
        )
        sync(6, "Grows", amount=Decimal("1500.00"))
        sync(7, "Slips", closing_date=date(2027, 1, 10))
        sync(8, "Comes in", closing_date=date(2026, 12, 5))
        sync(9, "Wins", stage="Closed Won", probability=100)
        sync(10, "Loses", stage="Closed Lost", probability=0)
        clock.move_to(_at(11))
        opportunities_mark_deleted(deleted={made["Vanishes"].zoho_id: _at(11, 8)})
        clock.move_to(_at(12))
        fx_rates_store(
            rates=UsdRates(
                as_of=_at(12, 8),
                units_per_usd={"SGD": Decimal("1.30"), "USD": Decimal("0.80")},
                missing=(),
            )
        )
        sync(13, "Grows", amount=Decimal("1200.00"))
        clock.move_to(TODAY)
        yield made


def test_waterfall_steps_match_what_happened(history: dict[str, Any]) -> None:
    usd_before = _sgd("1000.00", "1")
    usd_after = _sgd("1000.00", "0.80")
    result = waterfall(Opportunity.objects.all(), Q4, date(2026, 10, 3), date(2026, 10, 20))

    assert result.history_start == FIRST_SYNC
    assert not result.starts_at_first_sync
    assert result.start_open_sgd == Decimal("1000.00") + Decimal("2000.00") + usd_before + Decimal(
        "500.00"
    ) + Decimal("800.00") + Decimal("900.00")
    assert result.steps == {
        "new": Decimal("700.00"),
        "increased": Decimal("500.00"),
        "decreased": Decimal("-300.00"),
        "pulled_in": Decimal("3000.00"),
        "pushed_out": Decimal("-2000.00"),
        "won": Decimal("-500.00"),
        "lost": Decimal("-800.00"),
        "deleted": Decimal("-900.00"),
        "fx": usd_after - usd_before,
    }
    assert result.unexplained_sgd == 0
    open_q4 = Opportunity.objects.open().filter(closing_date__range=Q4)
    live = sum((deal.amount_sgd or Decimal(0) for deal in open_q4), Decimal(0))
    assert (
        result.end_open_sgd
        == live
        == Decimal("1200.00") + usd_after + Decimal("3000.00") + Decimal("700.00")
    )
    assert result.reconciles
    ids = {name: deal.pk for name, deal in history.items()}
    assert result.deals["pushed_out"] == {ids["Slips"]: Decimal("-2000.00")}
    assert result.deals["deleted"] == {ids["Vanishes"]: Decimal("-900.00")}
    assert result.deals["new"] == {ids["New"]: Decimal("700.00")}


def test_a_period_inside_the_history_sees_only_its_own_moves(history: dict[str, Any]) -> None:
    result = waterfall(Opportunity.objects.all(), Q4, date(2026, 10, 7), date(2026, 10, 8))
    assert {k: v for k, v in result.steps.items() if v} == {
        "pushed_out": Decimal("-2000.00"),
        "pulled_in": Decimal("3000.00"),
    }
    assert result.end_open_sgd == result.start_open_sgd + Decimal("1000.00")
    # The next quarter's waterfall sees the same moves from the other side.
    q1 = waterfall(Opportunity.objects.all(), Q1, date(2026, 10, 7), date(2026, 10, 8))
    assert {k: v for k, v in q1.steps.items() if v} == {
        "pushed_out": Decimal("-3000.00"),
        "pulled_in": Decimal("2000.00"),
    }


def test_a_period_before_the_first_sync_starts_at_it(history: dict[str, Any]) -> None:
    early = waterfall(Opportunity.objects.all(), Q4, date(2026, 9, 1), date(2026, 10, 20))
    from_first_day = waterfall(Opportunity.objects.all(), Q4, date(2026, 10, 2), date(2026, 10, 20))
    assert early.starts_at_first_sync
    assert early.start_open_sgd == from_first_day.start_open_sgd
    assert early.steps == from_first_day.steps


def test_a_change_history_did_not_record_is_said_not_plugged(history: dict[str, Any]) -> None:
    Opportunity.objects.filter(name="New").update(amount_sgd=Decimal("10.00"))  # behind its back
    result = waterfall(Opportunity.objects.all(), Q4, date(2026, 10, 3), date(2026, 10, 20))
    assert result.unexplained_sgd == Decimal("-690.00")
    assert result.steps["new"] == Decimal("700.00")
    assert result.reconciles


def test_no_history_before_any_sync(db: None) -> None:
    OpportunityFactory.create()
    PipelineMove.objects.all().delete()
    result = waterfall(Opportunity.objects.all(), Q4, date(2026, 10, 1), date(2026, 10, 2))
    assert not result.has_history
    assert result.end_open_sgd == 0


def test_waterfall_page_lists_a_steps_deals(
    history: dict[str, Any], manager_client: Client
) -> None:
    response = manager_client.get("/waterfall/?quarter=2026Q4&start=2026-10-03&step=pushed_out")
    assert response.status_code == 200
    assert [row["deal"].name for row in response.context["step_rows"]] == ["Slips"]
    page = response.content.decode()
    assert "Moved out of the quarter" in page
    assert "Slips" in page
    bad = manager_client.get("/waterfall/?start=2026-10-10&end=2026-10-01")
    assert bad.status_code == 400
    assert "The end is before the start." in bad.content.decode()


# --- FX what-if ----------------------------------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_fx_what_if_moves_only_the_currency_exactly(rates: None) -> None:
    sync_new(
        amount=Decimal("1000.00"), currency="USD", probability=90, closing_date=date(2026, 11, 1)
    )
    sync_new(
        amount=Decimal("333.33"), currency="USD", probability=30, closing_date=date(2027, 3, 1)
    )
    sync_new(
        amount=Decimal("500.00"), currency="SGD", probability=60, closing_date=date(2026, 11, 1)
    )
    sync_new(
        amount=Decimal("100.00"),
        currency="USD",
        stage="Closed Won",
        probability=100,
        closing_date=date(2026, 10, 5),
    )
    result = fx_what_if(
        Opportunity.objects.live(),
        Q4,
        currency="usd",
        percent=Decimal("-7.5"),
        converter=sgd_converter(),
    )

    def moved(amount: str) -> Decimal:
        exact = Decimal(amount) * Decimal("1.30") * Decimal("0.925")
        return exact.quantize(CENT, ROUND_HALF_UP)

    big, small = _sgd("1000.00", "1"), _sgd("333.33", "1")
    assert result.open_pipeline.now == big + small + Decimal("500.00")
    assert result.open_pipeline.what_if == moved("1000.00") + moved("333.33") + Decimal("500.00")
    weighted_now = (big * 90 + small * 30 + Decimal("500.00") * 60) / 100
    weighted_if = (moved("1000.00") * 90 + moved("333.33") * 30 + Decimal("500.00") * 60) / 100
    assert result.weighted_pipeline.now == weighted_now.quantize(CENT, ROUND_HALF_UP)
    assert result.weighted_pipeline.what_if == weighted_if.quantize(CENT, ROUND_HALF_UP)
    assert result.categories["commit"].difference == moved("1000.00") - big
    assert result.categories["best_case"].difference == 0
    assert result.deals_moved == 2
    assert result.percent_text == "-7.5"
    # Nothing stored.
    stored = sorted(deal.amount_sgd or Decimal(0) for deal in Opportunity.objects.all())
    assert stored == sorted([big, small, Decimal("500.00"), _sgd("100.00", "1")])


@time_machine.travel(TODAY, tick=False)
def test_forecast_page_shows_the_what_if(rates: None, manager_client: Client) -> None:
    sync_new(
        amount=Decimal("1000.00"), currency="USD", probability=90, closing_date=date(2026, 11, 1)
    )
    response = manager_client.get("/forecast/?fx_currency=USD&fx_percent=10")
    assert response.status_code == 200
    page = response.content.decode()
    assert "What if USD moved +10%" in page
    assert "S$1,430.00" in page
    assert "S$130.00" in page


# --- Query counts and downloads ------------------------------------------------------------------


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@time_machine.travel(TODAY, tick=False)
def test_the_pages_queries_do_not_grow_with_the_deals(
    history: dict[str, Any], manager_client: Client
) -> None:
    urls = ("/forecast/?fx_currency=USD&fx_percent=3", "/waterfall/?start=2026-10-03&step=won")
    for url in urls:  # the first request fills the caches (rates, freshness, session)
        _queries(manager_client, url)
    # The figures are kept per data version: a new version makes each page compute them again,
    # as it must after the deals below.
    deals_changed()
    before = [_queries(manager_client, url) for url in urls]
    for index in range(12):
        sync_new(
            name=f"More {index}",
            amount=Decimal(100 + index),
            currency="USD",
            owner=CrmUserFactory.create(),
            territory=f"T{index}",
            closing_date=date(2026, 11, 1 + index),
        )
    Opportunity.objects.filter(name="More 3").update(outcome="won")
    deals_changed()
    assert [_queries(manager_client, url) for url in urls] == before
    # Asked again at the same version, each page reads its figures from the cache.
    assert all(
        _queries(manager_client, url) < count for url, count in zip(urls, before, strict=True)
    )


@time_machine.travel(TODAY, tick=False)
def test_the_pages_figures_follow_a_change_to_the_deals(
    history: dict[str, Any], manager_client: Client
) -> None:
    url = "/forecast/?quarter=2026Q4"
    first = manager_client.get(url).context["forecast"].totals.total.amount_sgd
    sync_new(amount=Decimal("1000.00"), currency="SGD", closing_date=date(2026, 12, 1))

    after = manager_client.get(url).context["forecast"].totals.total.amount_sgd
    assert after == first + Decimal("1000.00")


@time_machine.travel(TODAY, tick=False)
def test_forecast_downloads_match_the_page_and_cannot_run_formulas(
    rates: None, manager_client: Client
) -> None:
    sync_new(
        owner=CrmUserFactory.create(name="=HYPERLINK(1)"),
        territory="+SG",
        probability=90,
        amount=Decimal("1234.50"),
        closing_date=date(2026, 11, 1),
    )
    response = manager_client.get("/forecast/export.csv?quarter=2026Q4")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="pipeline-pulse-forecast-2026Q4.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["group", "name", "closed_sgd", "commit_sgd"]
    assert rows[1][:4] == ["Total 2026Q4", "All deals", "0.00", "1234.50"]
    assert rows[2][:4] == ["Owner", "'=HYPERLINK(1)", "0.00", "1234.50"]
    assert rows[3][:4] == ["Territory", "'+SG", "0.00", "1234.50"]
    workbook = manager_client.get("/forecast/export.xlsx?quarter=2026Q4")
    assert workbook["Content-Type"] == XLSX_CONTENT_TYPE
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    assert sheet["D2"].value == 1234.5
    assert sheet["B3"].value == "=HYPERLINK(1)"
    assert sheet["B3"].data_type == "s"  # text, never a formula
    bad = manager_client.get("/forecast/export.csv?quarter=soon")
    assert bad.status_code == 400
    assert "quarter" in bad.content.decode()


def test_waterfall_downloads_list_steps_then_deals(
    history: dict[str, Any], manager_client: Client
) -> None:
    response = manager_client.get("/waterfall/export.csv?quarter=2026Q4&start=2026-10-03")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    steps = {row[0]: row[1] for row in rows[1:13] if not row[3]}
    assert steps["Moved out of the quarter"] == "-2000.00"
    assert steps["Open at the end"] == str(
        waterfall(Opportunity.objects.all(), Q4, date(2026, 10, 3), date(2026, 10, 20)).end_open_sgd
    )
    slips = history["Slips"]
    assert ["Moved out of the quarter", "-2000.00", "", slips.zoho_id, "Slips"] in rows
    workbook = manager_client.get("/waterfall/export.xlsx?quarter=2026Q4&start=2026-10-03")
    assert workbook.status_code == 200
    assert workbook["Content-Disposition"].endswith('2026Q4-2026-10-03-2026-10-20.xlsx"')
