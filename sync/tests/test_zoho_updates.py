"""Pushing edits to Zoho (PUT /crm/v8/Deals) and building the client from settings."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from pytest_django import Settings

from sync.tests.zoho_helpers import pull_everything, serve_zoho
from sync.zoho import ZohoClient, ZohoNotConfiguredError
from sync.zoho.records import DealUpdate


def test_a_partial_success_returns_one_result_per_deal_in_order() -> None:
    with serve_zoho(deals=20) as zoho:
        simulator = zoho.simulator
        ids = [raw["id"] for raw in simulator.deals()]
        simulator.clock.advance(timedelta(minutes=3))
        client = zoho.client()

        results = client.update_deals(
            [
                DealUpdate(ids[0], {"closing_date": date(2026, 9, 30), "probability": 75}),
                DealUpdate(ids[1], {"amount": Decimal("-10.00")}),
                DealUpdate("5725767999999999999", {"stage": "Closed Won"}),
                DealUpdate(ids[2], {"amount": Decimal("1234567.89"), "currency": "EUR"}),
            ]
        )

        first, third = simulator.deal(ids[0]), simulator.deal(ids[2])
        second_unchanged = simulator.deal(ids[1])["Amount"] != Decimal("-10.00")
        statuses = zoho.statuses()

    assert [r.zoho_id for r in results] == [ids[0], ids[1], "5725767999999999999", ids[2]]
    assert [r.succeeded for r in results] == [True, False, False, True]
    assert [r.code for r in results] == ["SUCCESS", "INVALID_DATA", "INVALID_DATA", "SUCCESS"]
    assert results[1].field == "amount"
    assert results[2].message == "the id given seems to be invalid"
    assert (first["Closing_Date"], first["Probability"]) == ("2026-09-30", 75)
    assert results[0].zoho_modified_time == datetime.fromisoformat(first["Modified_Time"])
    assert results[0].zoho_modified_time == simulator.clock.now()
    assert (third["Amount"], third["Currency"]) == (Decimal("1234567.89"), "EUR")  # every cent
    assert second_unchanged
    assert statuses == [207]


def test_a_deal_changed_in_zoho_after_the_edit_is_refused_with_412() -> None:
    with serve_zoho(deals=20) as zoho:
        simulator = zoho.simulator
        deal_id = simulator.deals()[5]["id"]
        base = datetime.fromisoformat(simulator.deal(deal_id)["Modified_Time"])
        simulator.clock.advance(timedelta(hours=1))
        simulator.modify_deal(deal_id, {"Stage": "Negotiation/Review"})  # someone in Zoho
        client = zoho.client()

        [result] = client.update_deals(
            [DealUpdate(deal_id, {"stage": "Closed Lost"}, unmodified_since=base)]
        )

        assert result.already_modified
        assert not result.succeeded
        assert simulator.deal(deal_id)["Stage"] == "Negotiation/Review"
        assert zoho.statuses() == [412]


def test_updates_are_grouped_by_base_time_and_sent_100_at_a_time() -> None:
    with serve_zoho(deals=160) as zoho:
        simulator = zoho.simulator
        raws = simulator.deals()
        simulator.clock.advance(timedelta(minutes=1))
        updates = [
            DealUpdate(
                raw["id"],
                {"kickoff_on": date(2026, 3, 1)},
                unmodified_since=datetime.fromisoformat(raw["Modified_Time"]),
            )
            for raw in raws[:3]
        ] + [DealUpdate(raw["id"], {"invoiced_on": date(2026, 3, 2)}) for raw in raws[3:]]
        client = zoho.client()

        results = client.update_deals(updates)

        assert all(result.succeeded for result in results)
        assert [result.zoho_id for result in results] == [raw["id"] for raw in raws]
        # Three distinct base times, then 157 unconditional updates in batches of 100.
        assert zoho.statuses() == [200] * 5
        assert client.api_calls == 5
        assert simulator.deal(raws[159]["id"])["Invoice_Date"] == "2026-03-02"


def test_updated_deals_come_back_in_the_next_incremental_pull() -> None:
    with serve_zoho(deals=50) as zoho:
        simulator = zoho.simulator
        deal_id = simulator.deals()[7]["id"]
        watermark = simulator.clock.now()
        simulator.clock.advance(timedelta(seconds=30))
        client = zoho.client()
        client.update_deals([DealUpdate(deal_id, {"payment_received_on": date(2026, 3, 1)})])

        [page] = list(client.iter_deal_pages(modified_since=watermark))

    assert [deal.zoho_id for deal in page.deals] == [deal_id]
    assert page.deals[0].payment_received_on == date(2026, 3, 1)


def test_from_settings_needs_the_oauth_credentials(settings: Settings) -> None:
    settings.ZOHO_CLIENT_ID = ""
    settings.ZOHO_CLIENT_SECRET = "set"
    settings.ZOHO_REFRESH_TOKEN = ""

    with pytest.raises(ZohoNotConfiguredError, match="ZOHO_CLIENT_ID, ZOHO_REFRESH_TOKEN"):
        ZohoClient.from_settings()


@pytest.mark.django_db  # the field map in force includes the admin's rows
def test_from_settings_builds_a_working_client(settings: Settings) -> None:
    with serve_zoho(deals=30) as zoho:
        oauth = zoho.simulator.oauth
        settings.ZOHO_ACCOUNTS_URL = zoho.server.url
        settings.ZOHO_API_DOMAIN = zoho.server.url + "/"
        settings.ZOHO_CLIENT_ID = oauth.client_id
        settings.ZOHO_CLIENT_SECRET = oauth.client_secret
        settings.ZOHO_REFRESH_TOKEN = oauth.refresh_token
        settings.ZOHO_HOME_CURRENCY = "sgd"
        settings.ZOHO_FIELD_MAP = '{"market_segment": "Segment"}'
        zoho.simulator.modify_deal(zoho.simulator.deals()[0]["id"], {"Currency": None})

        client = ZohoClient.from_settings()
        deals, malformed = pull_everything(client)

    assert len(deals) == 30
    assert malformed == []
    assert deals[0].currency == "SGD"
    assert all(deal.market_segment == "" for deal in deals)  # the org has no `Segment` field


@pytest.mark.django_db
def test_from_settings_refuses_a_bad_field_map(settings: Settings) -> None:
    settings.ZOHO_CLIENT_ID = settings.ZOHO_CLIENT_SECRET = settings.ZOHO_REFRESH_TOKEN = "x"
    settings.ZOHO_FIELD_MAP = "owner=Deal_Owner"

    with pytest.raises(ZohoNotConfiguredError, match="org-specific"):
        ZohoClient.from_settings()


def test_amounts_go_to_zoho_as_the_double_that_prints_the_same_number() -> None:
    from sync.zoho.client import _json_with_exact_decimals

    body = _json_with_exact_decimals({"data": [{"Amount": Decimal("1234567.80")}]})
    assert body == b'{"data":[{"Amount":1234567.8}]}'
    with pytest.raises(ValueError, match="more digits than Zoho"):
        _json_with_exact_decimals({"data": [{"Amount": Decimal("123456789012345678.91")}]})
