"""The Zoho simulator's own rules, spoken to with plain HTTP as any Zoho client would."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from simulator.clock import SimulatorClock
from simulator.faults import Fault
from simulator.server import SimulatorServer
from simulator.zoho import ZohoSimulator

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIELDS = "Deal_Name,Amount,Currency,Stage,Modified_Time"


@dataclass
class Org:
    simulator: ZohoSimulator
    url: str
    token: str

    def get(
        self, path: str = "/crm/v8/Deals", headers: dict[str, str] | None = None, **params: Any
    ) -> requests.Response:
        return requests.get(
            self.url + path,
            params=params,
            headers={"Authorization": f"Zoho-oauthtoken {self.token}", **(headers or {})},
            timeout=10,
        )

    def put(self, body: Any, headers: dict[str, str] | None = None) -> requests.Response:
        return requests.put(
            self.url + "/crm/v8/Deals",
            json=body,
            headers={"Authorization": f"Zoho-oauthtoken {self.token}", **(headers or {})},
            timeout=10,
        )


def mint(url: str, simulator: ZohoSimulator, **overrides: str) -> requests.Response:
    oauth = simulator.oauth
    form = {
        "grant_type": "refresh_token",
        "client_id": oauth.client_id,
        "client_secret": oauth.client_secret,
        "refresh_token": oauth.refresh_token,
        **overrides,
    }
    return requests.post(f"{url}/oauth/v2/token", data=form, timeout=10)


def serve(deals: int, **options: Any) -> Iterator[Org]:
    simulator = ZohoSimulator(deals=deals, seed=5, clock=SimulatorClock(START), **options)
    with SimulatorServer([simulator]) as server:
        token = mint(server.url, simulator).json()["access_token"]
        yield Org(simulator, server.url, token)


@pytest.fixture
def org() -> Iterator[Org]:
    yield from serve(2300)


@pytest.fixture
def small_org() -> Iterator[Org]:
    yield from serve(30)


# --- OAuth -------------------------------------------------------------------------------------


def test_the_token_endpoint_mints_short_lived_tokens_for_the_org(small_org: Org) -> None:
    simulator = small_org.simulator
    oauth = simulator.oauth
    by_query = requests.post(
        f"{small_org.url}/oauth/v2/token",
        params={
            "grant_type": "refresh_token",
            "client_id": oauth.client_id,
            "client_secret": oauth.client_secret,
            "refresh_token": oauth.refresh_token,
        },
        timeout=10,
    ).json()

    assert by_query["expires_in"] == 3600
    assert by_query["token_type"] == "Bearer"
    assert by_query["api_domain"] == small_org.url
    assert small_org.get(fields=FIELDS).status_code == 200
    simulator.clock.advance(timedelta(hours=1))
    assert small_org.get(fields=FIELDS).status_code == 401


def test_bad_credentials_are_refused_with_http_200_and_an_error(small_org: Org) -> None:
    simulator, url = small_org.simulator, small_org.url

    wrong_token = mint(url, simulator, refresh_token="1000.nope")
    wrong_secret = mint(url, simulator, client_secret="nope")
    wrong_grant = mint(url, simulator, grant_type="password")

    assert (wrong_token.status_code, wrong_token.json()) == (200, {"error": "invalid_code"})
    assert (wrong_secret.status_code, wrong_secret.json()) == (200, {"error": "invalid_client"})
    assert wrong_grant.json() == {"error": "unsupported_grant_type"}


def test_a_grant_code_is_exchanged_once_for_a_refresh_token(small_org: Org) -> None:
    simulator, url = small_org.simulator, small_org.url
    code = next(iter(simulator.oauth.grant_codes))

    first = mint(url, simulator, grant_type="authorization_code", code=code).json()
    again = mint(url, simulator, grant_type="authorization_code", code=code).json()

    assert first["refresh_token"] == simulator.oauth.refresh_token
    assert first["access_token"]
    assert again == {"error": "invalid_code"}


def test_an_eleventh_token_in_ten_minutes_is_access_denied(small_org: Org) -> None:
    simulator, url = small_org.simulator, small_org.url
    answers = [mint(url, simulator) for _ in range(10)]  # one was minted by the fixture

    assert [a.status_code for a in answers[:9]] == [200] * 9
    assert answers[9].status_code == 400
    assert answers[9].json()["error"] == "Access Denied"
    simulator.clock.advance(timedelta(minutes=10))
    assert mint(url, simulator).status_code == 200


@pytest.mark.parametrize("authorization", [None, "Zoho-oauthtoken 1000.unknown", "Bearer x"])
def test_calls_without_a_valid_token_get_401_invalid_token(
    small_org: Org, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = requests.get(
        f"{small_org.url}/crm/v8/Deals", params={"fields": FIELDS}, headers=headers, timeout=10
    )

    assert answer.status_code == 401
    assert answer.json() == {
        "code": "INVALID_TOKEN",
        "details": {},
        "message": "invalid oauth token",
        "status": "error",
    }


def test_expiring_every_token_makes_the_next_call_401(small_org: Org) -> None:
    small_org.simulator.expire_tokens()

    assert small_org.get(fields=FIELDS).json()["code"] == "INVALID_TOKEN"


# --- Get Records -------------------------------------------------------------------------------


def test_fields_is_mandatory_and_limited_to_50(org: Org) -> None:
    missing = org.get()
    too_many = org.get(fields=",".join(f"Field_{n}" for n in range(51)))

    assert missing.status_code == 400
    assert missing.json()["code"] == "REQUIRED_PARAM_MISSING"
    assert too_many.status_code == 400
    assert too_many.json()["code"] == "LIMIT_EXCEEDED"


def test_only_the_requested_fields_and_the_id_come_back(org: Org) -> None:
    body = org.get(fields="Deal_Name,Amount", per_page=5).json()

    assert [set(record) for record in body["data"]] == [{"id", "Deal_Name", "Amount"}] * 5
    assert body["info"]["count"] == 5
    assert body["info"]["more_records"] is True


def test_per_page_is_at_most_200(org: Org) -> None:
    assert org.get(fields=FIELDS, per_page=201).status_code == 400
    assert len(org.get(fields=FIELDS).json()["data"]) == 200  # the default


def test_page_reaches_only_the_first_2000_records(org: Org) -> None:
    tenth = org.get(fields=FIELDS, page=10)
    eleventh = org.get(fields=FIELDS, page=11)

    assert tenth.status_code == 200
    assert tenth.json()["info"]["more_records"] is True
    assert eleventh.status_code == 400
    assert eleventh.json() == {
        "code": "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
        "details": {"limit": 2000},
        "message": "You can only get the first 2000 records without using page_token param",
        "status": "error",
    }


def test_page_token_continues_past_2000_and_is_bound_to_the_query(org: Org) -> None:
    tenth = org.get(fields=FIELDS, page=10, sort_order="asc").json()
    token = tenth["info"]["next_page_token"]

    rest = org.get(fields=FIELDS, page_token=token, sort_order="asc").json()
    other_fields = org.get(fields="Deal_Name", page_token=token, sort_order="asc")
    other_order = org.get(fields=FIELDS, page_token=token, sort_order="desc")
    both = org.get(fields=FIELDS, page_token=token, page=2, sort_order="asc")

    ids = [record["id"] for record in org.simulator.deals()]
    assert [record["id"] for record in rest["data"]] == ids[2000:2200]
    assert rest["info"]["page"] == 11
    assert other_fields.json()["code"] == "TOKEN_BOUND_DATA_MISMATCH"
    assert other_order.json()["code"] == "TOKEN_BOUND_DATA_MISMATCH"
    assert both.status_code == 400
    assert both.json()["code"] == "AMBIGUITY_DURING_PROCESSING"


def test_a_page_token_expires_after_24_hours(org: Org) -> None:
    token = org.get(fields=FIELDS).json()["info"]["next_page_token"]
    org.simulator.clock.advance(timedelta(hours=24, seconds=1))
    org.token = mint(org.url, org.simulator).json()["access_token"]

    answer = org.get(fields=FIELDS, page_token=token)

    assert answer.status_code == 400
    assert answer.json()["code"] == "EXPIRED_VALUE"


def test_the_last_page_has_no_tokens_and_no_more_records(small_org: Org) -> None:
    info = small_org.get(fields=FIELDS).json()["info"]

    assert info["more_records"] is False
    assert info["next_page_token"] is None
    assert info["previous_page_token"] is None


@pytest.mark.parametrize("sort_by", ["id", "Created_Time", "Modified_Time"])
@pytest.mark.parametrize("sort_order", ["asc", "desc"])
def test_records_are_sorted_as_asked(org: Org, sort_by: str, sort_order: str) -> None:
    data = org.get(fields=FIELDS + ",Created_Time", sort_by=sort_by, sort_order=sort_order)
    records = data.json()["data"]

    def key(record: dict[str, Any]) -> tuple[Any, ...]:
        if sort_by == "id":
            return (int(record["id"]),)
        return (datetime.fromisoformat(record[sort_by]), int(record["id"]))

    assert records == sorted(records, key=key, reverse=sort_order == "desc")


def test_sort_by_defaults_to_id_descending(small_org: Org) -> None:
    info = small_org.get(fields=FIELDS).json()["info"]

    assert (info["sort_by"], info["sort_order"]) == ("id", "desc")
    assert small_org.get(fields=FIELDS, sort_by="Amount").status_code == 400


def test_if_modified_since_returns_only_later_changes_or_304(small_org: Org) -> None:
    simulator = small_org.simulator
    since = simulator.clock.now().isoformat()
    unchanged = small_org.get(headers={"If-Modified-Since": since}, fields=FIELDS)
    simulator.clock.advance(timedelta(seconds=5))
    deal_id = simulator.deals()[3]["id"]
    simulator.modify_deal(deal_id, {"Amount": None})

    changed = small_org.get(headers={"If-Modified-Since": since}, fields=FIELDS)

    assert (unchanged.status_code, unchanged.content) == (304, b"")
    assert [record["id"] for record in changed.json()["data"]] == [deal_id]
    assert changed.json()["data"][0]["Amount"] is None


def test_an_org_without_deals_answers_204() -> None:
    for org in serve(0):
        answer = org.get(fields=FIELDS, headers={"If-Modified-Since": "2020-01-01T00:00:00+08:00"})

        assert (answer.status_code, answer.content) == (204, b"")


# --- Deleted records ---------------------------------------------------------------------------


def test_deleted_records_list_recycle_and_permanent_deletions(small_org: Org) -> None:
    simulator = small_org.simulator
    ids = [record["id"] for record in simulator.deals()]
    assert small_org.get("/crm/v8/Deals/deleted", type="all").status_code == 204
    simulator.delete_deals(ids[:3])
    simulator.clock.advance(timedelta(minutes=1))
    simulator.delete_deals(ids[3:4], permanent=True)

    everything = small_org.get("/crm/v8/Deals/deleted", type="all").json()
    permanent = small_org.get("/crm/v8/Deals/deleted", type="permanent").json()
    later = small_org.get(
        "/crm/v8/Deals/deleted",
        headers={"If-Modified-Since": simulator.clock.now().isoformat()},
        type="all",
    )

    assert [row["id"] for row in everything["data"]] == [ids[3], *ids[:3]]  # newest first
    assert everything["info"] == {"per_page": 200, "count": 4, "page": 1, "more_records": False}
    assert [row["id"] for row in permanent["data"]] == [ids[3]]
    assert later.status_code == 304
    assert ids[0] not in [record["id"] for record in simulator.deals()]


def test_recycled_deals_are_listed_for_60_days(small_org: Org) -> None:
    simulator = small_org.simulator
    simulator.delete_deals([simulator.deals()[0]["id"]])
    simulator.clock.advance(timedelta(days=61))
    small_org.token = mint(small_org.url, simulator).json()["access_token"]

    assert small_org.get("/crm/v8/Deals/deleted").status_code == 204


# --- Update records ----------------------------------------------------------------------------


def test_updates_report_per_record_and_207_on_partial_success(small_org: Org) -> None:
    ids = [record["id"] for record in small_org.simulator.deals()]

    answer = small_org.put(
        {
            "data": [
                {"id": ids[0], "Probability": 90, "Closing_Date": "2026-07-01"},
                {"id": ids[1], "Amount": "a lot"},
                {"id": ids[2], "Stage": "Not a stage"},
                {"Stage": "Closed Won"},
            ],
            "trigger": [],
        }
    )

    data = answer.json()["data"]
    assert answer.status_code == 207
    assert [item["code"] for item in data] == [
        "SUCCESS",
        "INVALID_DATA",
        "INVALID_DATA",
        "MANDATORY_NOT_FOUND",
    ]
    assert data[1]["details"] == {"api_name": "Amount", "expected_data_type": "double"}
    assert data[0]["details"]["id"] == ids[0]
    assert small_org.simulator.deal(ids[0])["Probability"] == 90


def test_an_update_of_a_deal_changed_since_the_base_time_is_412(small_org: Org) -> None:
    simulator = small_org.simulator
    deal = simulator.deals()[0]
    simulator.clock.advance(timedelta(minutes=1))
    simulator.modify_deal(deal["id"], {"Stage": "Closed Won"})

    answer = small_org.put(
        {"data": [{"id": deal["id"], "Stage": "Closed Lost"}]},
        headers={"If-Unmodified-Since": deal["Modified_Time"]},
    )

    assert answer.status_code == 412
    assert answer.json()["data"][0]["code"] == "ALREADY_MODIFIED"
    assert simulator.deal(deal["id"])["Stage"] == "Closed Won"


def test_at_most_100_records_per_update(small_org: Org) -> None:
    deal_id = small_org.simulator.deals()[0]["id"]

    answer = small_org.put({"data": [{"id": deal_id, "Probability": 50}] * 101})

    assert answer.status_code == 400
    assert answer.json()["code"] == "LIMIT_EXCEEDED"


# --- Faults and hooks --------------------------------------------------------------------------


def test_faults_answer_with_zoho_error_bodies(small_org: Org) -> None:
    small_org.simulator.faults.fail_next(
        Fault.RATE_LIMITED,
        Fault.RATE_LIMITED_NO_RETRY_AFTER,
        Fault.SERVER_ERROR,
        Fault.UNAUTHORIZED,
    )

    limited, bare, broken, unauthorised = (small_org.get(fields=FIELDS) for _ in range(4))

    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "1")
    assert limited.json()["status"] == "error"
    assert (bare.status_code, "Retry-After" in bare.headers) == (429, False)
    assert broken.json()["code"] == "INTERNAL_ERROR"
    assert unauthorised.json()["code"] == "INVALID_TOKEN"
    assert small_org.get(fields=FIELDS).status_code == 401  # the token really expired


def test_added_deals_get_new_higher_ids_and_the_current_time(small_org: Org) -> None:
    simulator = small_org.simulator
    before = [record["id"] for record in simulator.deals()]
    simulator.clock.advance(timedelta(days=1))

    added = simulator.add_deals(2)

    assert int(added[0]) > int(before[-1])
    assert [record["id"] for record in simulator.deals()] == [*before, *added]
    assert simulator.deal(added[1])["Created_Time"] == simulator.deal(added[1])["Modified_Time"]
    assert datetime.fromisoformat(simulator.deal(added[0])["Created_Time"]) == simulator.clock.now()


def test_an_unknown_malformation_is_refused(small_org: Org) -> None:
    with pytest.raises(ValueError, match="unknown malformation"):
        small_org.simulator.inject_malformed("upside_down")


# --- Org-specific field names ------------------------------------------------------------------


def test_an_org_may_call_a_custom_field_by_another_api_name(small_org: Org) -> None:
    simulator = small_org.simulator
    simulator.rename_field("Region", "Sales_Region")
    deal = simulator.deals()[0]

    answer = small_org.get(fields="Deal_Name,Sales_Region,Region", sort_order="asc")
    first = answer.json()["data"][0]
    updated = small_org.put({"data": [{"id": deal["id"], "Sales_Region": "ASEAN"}]})
    refused = small_org.put({"data": [{"id": deal["id"], "Region": "Nowhere"}]})

    assert first["id"] == deal["id"]
    assert first["Sales_Region"] == deal["Region"]
    assert "Region" not in first  # the org has no field of that name
    assert updated.status_code == 200
    assert simulator.deal(deal["id"])["Region"] == "ASEAN"
    assert refused.json()["data"][0]["details"]["api_name"] == "Region"
    with pytest.raises(ValueError, match="already names a field"):
        simulator.rename_field("Solution_Type", "Stage")


def test_an_edit_to_one_deal_leaves_the_owner_it_shares_with_others() -> None:
    simulator = ZohoSimulator(deals=50, seed=3)
    first, *others = simulator.deals()
    sharing = [deal["id"] for deal in others if deal["Owner"] == first["Owner"]]
    assert sharing

    simulator.modify_deal(first["id"], {"Owner": {"name": "Someone Else", "id": "1"}})
    handed_out = simulator.deal(sharing[0])
    handed_out["Owner"]["name"] = "Changed by a caller"

    assert simulator.deal(sharing[0])["Owner"] == first["Owner"]
    assert simulator.deal(first["id"])["Owner"] == {"name": "Someone Else", "id": "1"}
