"""The simulated Notification APIs: channels checked as Zoho checks them, answers that match
Zoho's OpenAPI file (notifications.json), and callbacks POSTed when deals change.

Three gaps of Zoho's generated file are patched, each following Zoho's documentation and
its published examples: `channel_id` is typed `object` (the examples send a string of
digits), `notify_url` carries a stray pattern, and `notification_condition` is required in
each event of a subscription's answer (the examples have none when no field condition was
asked for).
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from simulator.clock import SimulatorClock
from simulator.server import SimulatorServer
from simulator.tests.test_zoho_contract import Org as ZohoOrg
from simulator.zoho import ZohoSimulator

OAS = Path(__file__).parent / "oas"
NOTIFICATIONS = "https://raw.githubusercontent.com/Zohocorp-Pvt-Ltd/crm-oas/refs/heads/main/v8.0/notifications.json"
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
WATCH = "/crm/v8/actions/watch"


@cache
def registry() -> Registry:
    document = copy.deepcopy(json.loads((OAS / "notifications.json").read_text()))
    schemas = document["components"]["schemas"]
    schemas["Notification"]["properties"]["channel_id"] = {"type": "string"}
    del schemas["Notification"]["properties"]["notify_url"]["pattern"]
    schemas["event"]["required"].remove("notification_condition")

    def unknown(uri: str) -> Resource[Any]:
        raise LookupError(f"{uri} is not vendored in simulator/tests/oas")

    return Registry(retrieve=unknown).with_resources(  # type: ignore[call-arg]
        [(NOTIFICATIONS, Resource.from_contents(document, default_specification=DRAFT4))]
    )


def validate(instance: Any, schema: str) -> None:
    validator = OAS30Validator(
        {"$ref": f"{NOTIFICATIONS}#/components/schemas/{schema}"},
        registry=registry(),
        format_checker=oas30_format_checker,
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]
    assert errors == [], errors[:5]


class Receiver:
    """A notify URL: records every callback it is sent, answers 200."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/zoho/notify/"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Org(ZohoOrg):
    """The simulated org, asked at its watch endpoint."""

    def call(self, method: str, path: str = WATCH, **kwargs: Any) -> requests.Response:
        return super().call(method, path, **kwargs)


@pytest.fixture
def org() -> Iterator[Org]:
    simulator = ZohoSimulator(deals=20, seed=5, clock=SimulatorClock(NOW))
    with SimulatorServer([simulator]) as server:
        simulator.environment(server.url)
        yield Org(simulator, server.url)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def _channel(notify_url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "channel_id": 1000000068002,
        "events": ["Deals.all"],
        "channel_expiry": (NOW + timedelta(hours=23)).isoformat(),
        "token": "TOKEN_FOR_VERIFICATION_OF_1000000068002",
        "notify_url": notify_url,
        **overrides,
    }


def test_enable_answers_as_zoho_documents_and_callbacks_follow_every_change(
    org: Org, receiver: Receiver
) -> None:
    answer = org.call("POST", json={"watch": [_channel(receiver.url)]})
    assert answer.status_code == 201
    validate(answer.json(), "SuccessWrapper")
    (event,) = answer.json()["watch"][0]["details"]["events"]
    assert event["channel_expiry"] == "2026-03-03T16:00:00+08:00"
    details = org.call("GET")
    validate(details.json(), "Response_Wrapper")

    deal_id = org.simulator.deals()[0]["id"]
    org.simulator.modify_deal(deal_id, {"Deal_Name": "Renewal"})
    (new_id,) = org.simulator.add_deals(1)
    org.simulator.delete_deals([new_id])
    assert org.simulator.watch.wait_idle()

    assert [(b["operation"], b["ids"]) for b in receiver.bodies] == [
        ("update", [deal_id]),
        ("insert", [new_id]),
        ("delete", [new_id]),
    ]
    first = receiver.bodies[0]
    assert set(first) == {
        "server_time",
        "query_params",
        "module",
        "resource_uri",
        "ids",
        "affected_fields",
        "operation",
        "channel_id",
        "token",
    }
    assert (first["channel_id"], first["token"], first["module"]) == (
        "1000000068002",
        "TOKEN_FOR_VERIFICATION_OF_1000000068002",
        "Deals",
    )
    assert first["server_time"] == int(NOW.timestamp() * 1000)
    assert [d.status for d in org.simulator.watch.deliveries] == [200, 200, 200]


def test_only_the_events_subscribed_to_are_sent(org: Org, receiver: Receiver) -> None:
    org.call("POST", json={"watch": [_channel(receiver.url, events=["Deals.delete"])]})
    deal_id = org.simulator.deals()[0]["id"]
    org.simulator.modify_deal(deal_id, {"Deal_Name": "Renewal"})
    org.simulator.delete_deals([deal_id])
    assert org.simulator.watch.wait_idle()
    assert [b["operation"] for b in receiver.bodies] == ["delete"]


def test_an_expiry_beyond_one_day_or_none_becomes_one_hour(org: Org, receiver: Receiver) -> None:
    for expiry in ((NOW + timedelta(days=1, minutes=1)).isoformat(), None):
        body = _channel(receiver.url, channel_expiry=expiry)
        if expiry is None:
            del body["channel_expiry"]
        answer = org.call("POST", json={"watch": [body]}).json()
        assert answer["watch"][0]["details"]["events"][0]["channel_expiry"] == (
            "2026-03-02T18:00:00+08:00"
        )
    # A lapsed channel sends nothing.
    org.simulator.clock.advance(timedelta(hours=1))
    org.simulator.modify_deal(org.simulator.deals()[0]["id"], {"Deal_Name": "Late"})
    assert org.simulator.watch.wait_idle()
    assert receiver.bodies == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"channel_id": None}, "MANDATORY_NOT_FOUND"),
        ({"channel_id": "12ab"}, "INVALID_DATA"),
        ({"events": []}, "MANDATORY_NOT_FOUND"),
        ({"events": ["Leads.all"]}, "INVALID_MODULE"),
        ({"events": ["Deals.merge"]}, "INVALID_MODULE"),
        ({"notify_url": "ftp://example.com/x"}, "INVALID_DATA"),
        ({"notify_url": None}, "MANDATORY_NOT_FOUND"),
        ({"token": "x" * 51}, "INVALID_DATA"),
        ({"channel_expiry": "tomorrow"}, "INVALID_DATA"),
        ({"channel_expiry": "2026-03-01T09:00:00+00:00"}, "INVALID_DATA"),
    ],
)
def test_a_channel_zoho_would_refuse_is_refused(
    org: Org, change: dict[str, Any], code: str
) -> None:
    body = {**_channel("https://pulse.example.com/n"), **change}
    answer = org.call("POST", json={"watch": [body]})
    assert answer.status_code == 400
    (item,) = answer.json()["watch"]
    assert (item["status"], item["code"]) == ("error", code)
    assert org.simulator.watch.channels == {}


def test_update_needs_a_subscribed_channel_and_disable_stops_callbacks(
    org: Org, receiver: Receiver
) -> None:
    refused = org.call("PATCH", json={"watch": [_channel(receiver.url)]})
    assert refused.json()["watch"][0]["code"] == "NOT_SUBSCRIBED"
    org.call("POST", json={"watch": [_channel(receiver.url)]})
    later = (NOW + timedelta(hours=20)).isoformat()
    updated = org.call("PATCH", json={"watch": [_channel(receiver.url, channel_expiry=later)]})
    assert updated.status_code == 200
    validate(updated.json(), "SuccessWrapper")
    assert updated.json()["watch"][0]["message"] == "Successfully updated the subscribe details"

    disabled = org.call("DELETE", params={"channel_ids": "1000000068002"})
    validate(disabled.json(), "SuccessWrapper")
    org.simulator.modify_deal(org.simulator.deals()[0]["id"], {"Deal_Name": "Quiet"})
    assert org.simulator.watch.wait_idle()
    assert receiver.bodies == []
    assert org.call("GET").status_code == 204


def test_the_watch_api_needs_a_token(org: Org) -> None:
    answer = requests.post(org.url + WATCH, json={"watch": []}, timeout=10)
    assert answer.status_code == 401
