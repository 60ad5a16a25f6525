"""Contract tests: the Zoho simulator's answers validate against Zoho's own OpenAPI schemas.

The schemas are Zoho's v8 files vendored in simulator/tests/oas/ (see its README). Two known
gaps in Zoho's generated files are patched here, each following Zoho's documentation:
- `Info.next_page_token`, `previous_page_token` and `page_token_expiry` are null on the last
  page (documented, and what Zoho sends) but the schema lacks `nullable`;
- error codes that record.json's `API_Exception` enum does not list (the paging errors,
  ALREADY_MODIFIED, TOO_MANY_REQUESTS) are checked against common.json's `API_Exception`,
  which every Zoho error body must satisfy.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from simulator.clock import SimulatorClock
from simulator.faults import Fault
from simulator.server import SimulatorServer
from simulator.zoho import ZohoSimulator

OAS = Path(__file__).parent / "oas"
PUBLISHED = "https://raw.githubusercontent.com/Zohocorp-Pvt-Ltd/crm-oas/refs/heads/main/v8.0/"
RECORD = PUBLISHED + "record.json"
COMMON = PUBLISHED + "common.json"
FIELDS = PUBLISHED + "fields.json"
EVERY_FIELD = (
    "Deal_Name,Amount,Currency,Exchange_Rate,Stage,Probability,Expected_Revenue,Closing_Date,"
    "Owner,Created_By,Modified_By,Account_Name,Contact_Name,Campaign_Source,Type,Lead_Source,"
    "Created_Time,Modified_Time,Last_Activity_Time,Pipeline,Region,Solution_Type,"
    "Type_of_Funding,Market_Segment,Proposal_Submission_date,PO_Generation_Date,Kick_off_Date,"
    "Invoice_Date,Payment_Received_Date,OB_Recognition_Date,Description,$currency_symbol,"
    "$approved,$editable,$state,Layout,Tag"
)


@cache
def registry() -> Registry:
    documents = {name: json.loads((OAS / name).read_text()) for name in ("record.json",)}
    record = copy.deepcopy(documents["record.json"])
    info = record["components"]["schemas"]["Info"]["properties"]
    for name in ("next_page_token", "previous_page_token", "page_token_expiry"):
        info[name]["nullable"] = True
    resources = {
        RECORD: record,
        COMMON: json.loads((OAS / "common.json").read_text()),
        PUBLISHED + "users.json": json.loads((OAS / "users.json").read_text()),
        FIELDS: json.loads((OAS / "fields.json").read_text()),
    }

    def unknown(uri: str) -> Resource[Any]:
        raise LookupError(f"{uri} is not vendored in simulator/tests/oas")

    return Registry(retrieve=unknown).with_resources(  # type: ignore[call-arg]
        (uri, Resource.from_contents(contents, default_specification=DRAFT4))
        for uri, contents in resources.items()
    )


def validate(instance: Any, document: str, schema: str) -> None:
    validator = OAS30Validator(
        {"$ref": f"{document}#/components/schemas/{schema}"},
        registry=registry(),
        format_checker=oas30_format_checker,
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]
    assert errors == [], errors[:5]


def record_error_codes() -> set[str]:
    document = json.loads((OAS / "record.json").read_text())
    return set(document["components"]["schemas"]["API_Exception"]["properties"]["code"]["enum"])


def validate_error(body: Any) -> None:
    validate(body, COMMON, "API_Exception")
    if body["code"] in record_error_codes():
        validate(body, RECORD, "API_Exception")


class Org:
    def __init__(self, simulator: ZohoSimulator, url: str) -> None:
        self.simulator, self.url = simulator, url
        oauth = simulator.oauth
        self.token = requests.post(
            f"{url}/oauth/v2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": oauth.client_id,
                "client_secret": oauth.client_secret,
                "refresh_token": oauth.refresh_token,
            },
            timeout=10,
        ).json()["access_token"]

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Zoho-oauthtoken {self.token}", **kwargs.pop("headers", {})}
        return requests.request(method, self.url + path, headers=headers, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def org() -> Iterator[Org]:
    simulator = ZohoSimulator(
        deals=2100, seed=9, clock=SimulatorClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    )
    with SimulatorServer([simulator]) as server:
        yield Org(simulator, server.url)


def test_get_records_pages_match_response_wrapper(org: Org) -> None:
    first = org.call("GET", "/crm/v8/Deals", params={"fields": EVERY_FIELD, "page": 10})
    token = first.json()["info"]["next_page_token"]
    last = org.call(
        "GET", "/crm/v8/Deals", params={"fields": EVERY_FIELD, "page_token": token}
    ).json()

    validate(first.json(), RECORD, "Response_Wrapper")
    validate(last, RECORD, "Response_Wrapper")
    assert last["info"]["more_records"] is False
    assert first.json()["data"][0]["Owner"]["email"]


def test_deleted_records_match_deleted_records_wrapper(org: Org) -> None:
    ids = [deal["id"] for deal in org.simulator.deals()[-3:]]
    org.simulator.delete_deals(ids[:2])
    org.simulator.delete_deals(ids[2:], permanent=True)

    body = org.call("GET", "/crm/v8/Deals/deleted", params={"type": "all"}).json()

    validate(body, RECORD, "Deleted_Records_Wrapper")
    assert {row["type"] for row in body["data"]} == {"recycle", "permanent"}


def test_update_answers_match_the_update_records_response(org: Org) -> None:
    deals = org.simulator.deals()[:2]
    body = org.call(
        "PUT",
        "/crm/v8/Deals",
        json={"data": [{"id": deals[0]["id"], "Probability": 70}, {"id": deals[1]["id"]}]},
    ).json()
    invalid = org.call(
        "PUT", "/crm/v8/Deals", json={"data": [{"id": deals[0]["id"], "Amount": "x"}]}
    ).json()

    for item in (*body["data"], *invalid["data"]):
        if item["status"] == "success":
            validate(item, RECORD, "Success_Response")
        else:
            validate_error(item)
    assert invalid["data"][0]["code"] == "INVALID_DATA"


def test_already_modified_answers_are_zoho_error_bodies(org: Org) -> None:
    deal = org.simulator.deals()[5]
    org.simulator.clock.advance(timedelta(seconds=1))
    org.simulator.modify_deal(deal["id"], {"Probability": 20})

    answer = org.call(
        "PUT",
        "/crm/v8/Deals",
        json={"data": [{"id": deal["id"], "Probability": 30}]},
        headers={"If-Unmodified-Since": deal["Modified_Time"]},
    )

    assert answer.status_code == 412
    validate_error(answer.json()["data"][0])


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "REQUIRED_PARAM_MISSING"),
        ({"fields": ",".join(f"F{n}" for n in range(51))}, "LIMIT_EXCEEDED"),
        ({"fields": "Deal_Name", "page": 11}, "DISCRETE_PAGINATION_LIMIT_EXCEEDED"),
        ({"fields": "Deal_Name", "page": 1, "page_token": "x"}, "AMBIGUITY_DURING_PROCESSING"),
        ({"fields": "Deal_Name", "page_token": "unknown"}, "INVALID_DATA"),
        ({"fields": "Deal_Name", "per_page": 500}, "INVALID_DATA"),
    ],
)
def test_error_bodies_match_zoho_error_schemas(org: Org, params: dict[str, Any], code: str) -> None:
    answer = org.call("GET", "/crm/v8/Deals", params=params)

    assert answer.status_code == 400
    assert answer.json()["code"] == code
    validate_error(answer.json())
    if code == "AMBIGUITY_DURING_PROCESSING":
        validate(answer.json(), COMMON, "AmbiguityError")


def test_token_bound_mismatch_and_auth_errors_are_zoho_error_bodies(org: Org) -> None:
    token = org.call("GET", "/crm/v8/Deals", params={"fields": "Deal_Name", "per_page": 5}).json()[
        "info"
    ]["next_page_token"]
    mismatch = org.call("GET", "/crm/v8/Deals", params={"fields": "Stage", "page_token": token})
    unauthorised = requests.get(f"{org.url}/crm/v8/Deals", params={"fields": "Stage"}, timeout=10)

    assert mismatch.json()["code"] == "TOKEN_BOUND_DATA_MISMATCH"
    validate_error(mismatch.json())
    assert unauthorised.status_code == 401
    validate_error(unauthorised.json())


@pytest.mark.parametrize("fault", [Fault.RATE_LIMITED, Fault.SERVER_ERROR, Fault.UNAVAILABLE])
def test_fault_bodies_are_zoho_error_bodies(org: Org, fault: Fault) -> None:
    org.simulator.faults.fail_next(fault, path_prefix="/crm/")

    answer = org.call("GET", "/crm/v8/Deals", params={"fields": "Stage"})

    assert answer.status_code >= 429
    validate_error(answer.json())


@pytest.mark.parametrize(
    "page",
    [
        {"data": [{"id": 5}]},
        {"data": [], "info": {"more_records": "yes"}},
        {"data": [{"id": "1", "Created_By": {"name": "no id"}}]},  # users.json's Minified_User
        {"data": [{"id": "1", "Modified_Time": "yesterday"}]},  # date-time format
        {"data": [], "info": {"next_page_token": 7}},
    ],
)
def test_the_schemas_catch_a_wrong_shape(page: dict[str, Any]) -> None:
    with pytest.raises(AssertionError):
        validate(page, RECORD, "Response_Wrapper")


def test_the_error_schemas_catch_a_wrong_shape() -> None:
    with pytest.raises(AssertionError):
        validate_error({"code": "INVALID_DATA", "message": "invalid data", "status": "error"})


def test_stage_picklist_values_match_zohos_pick_list_values(org: Org) -> None:
    response = org.call("GET", "/crm/v8/settings/fields", params={"module": "Deals"})
    assert response.status_code == 200
    (stage,) = response.json()["fields"]
    assert stage["api_name"] == "Stage"
    for value in stage["pick_list_values"]:
        validate(value, FIELDS, "pick_list_values")
    refused = org.call("GET", "/crm/v8/settings/fields", params={"module": "Nope"})
    assert refused.status_code == 400
    validate_error(refused.json())
