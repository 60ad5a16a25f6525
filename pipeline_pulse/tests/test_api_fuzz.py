"""Schema and behaviour agree: the API fuzzed from its own OpenAPI schema with schemathesis.

Every operation gets valid and invalid requests (a bounded number of each, derandomized so a
run is repeatable), sent as an Admin's read-and-write token through the WSGI application.
No answer may be a 5xx; every answer must be documented in the schema (its status, content
type, headers and body); and a request the schema calls invalid (a number for a string, an
empty or unknown choice, a missing required header) must be refused, never quietly read.

Not checked: that every schema-valid request is accepted. Business rules the schema cannot
say (a stage of this org's pipeline, an end after its start, a currency the org uses) refuse
valid-looking input with a documented 400, as docs/api.md describes.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from currency.services import rate_override_set
from opportunities.roles import Role
from opportunities.tests.factories import OpportunityFactory, StageMappingFactory, UserFactory
from pipeline_pulse.api.tokens import api_token_create
from pipeline_pulse.models import TokenScope
from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger

pytestmark = pytest.mark.django_db
# Per operation and per mode (valid, invalid): about a thousand requests in all.
EXAMPLES_PER_OPERATION = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    missing_required_header,
    unsupported_method,
]


@pytest.fixture
def wsgi_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[WSGIHandler]:
    """The project's WSGI application inside the test's transaction.

    As Django's test client does, requests must not close the test's database connection, and
    the throttle must not end the fuzzing early.
    """
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": None, "anon": None})
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with (
            mock.patch("sync.triggers.zoho_sync_incremental.delay"),
            mock.patch("sync.triggers.zoho_sync_full.delay"),
        ):
            yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _data() -> dict[str, str]:
    """Rows for the operations to find, and the Admin's token."""
    admin = UserFactory.create(role=Role.ADMIN)
    OpportunityFactory.create_batch(3)
    StageMappingFactory.create(stage="Shortlisted")
    SyncRun.objects.create(
        kind=SyncKind.FULL, status=SyncStatus.SUCCEEDED, trigger=SyncTrigger.SCHEDULE
    )
    rate_override_set(currency="INR", units_per_usd=Decimal("80"), reason="Budget", user=admin)
    _, raw = api_token_create(user=admin, name="fuzz", created_by=None, scope=TokenScope.READ_WRITE)
    return {"Authorization": f"Bearer {raw}"}


def test_no_request_gets_a_500_or_an_undocumented_answer(wsgi_app: WSGIHandler) -> None:
    auth = _data()
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app, headers=auth)
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) >= 20  # the schema itself has no invalid operation

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, auth)


def _fuzz(operation: Any, mode: GenerationMode, auth: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=auth, checks=CHECKS)

    run()


# --- What the review's schemathesis run found, each pinned ---------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/api/v1/rate-overrides/{override}/remove/", {"reason": 0}, "reason"),
        (
            "post",
            "/api/v1/rate-overrides/",
            {"currency": "EUR", "units_per_usd": 0.9, "reason": "Budget"},
            "units_per_usd",
        ),
        ("post", "/api/v1/sync-runs/", {"kind": 1}, "kind"),
        ("patch", "/api/v1/opportunities/{deal}/", {"probability": "40"}, "probability"),
        ("patch", "/api/v1/opportunities/{deal}/", {"amount": 1000.5}, "amount"),
        ("patch", "/api/v1/opportunities/{deal}/", {"stage": 7}, "stage"),
    ],
)
def test_a_body_of_the_wrong_json_type_is_a_400_not_coerced(
    admin_client_: Any, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    admin = admin_client_.user
    override = rate_override_set(
        currency="INR", units_per_usd=Decimal("80"), reason="Budget", user=admin
    )
    deal = OpportunityFactory.create()
    url = path.format(override=override.pk, deal=deal.pk)
    with mock.patch("sync.triggers.zoho_sync_incremental.delay"):
        response = getattr(admin_client_, method)(url, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["details"]) == [field]


@pytest.mark.parametrize(
    "query", ["page_size=null", "page_size=0", "page=null", "page=last", "page=%C2%B2"]
)
def test_paging_that_is_not_a_whole_number_is_a_400_naming_it(
    viewer_client: Any, query: str
) -> None:
    response = viewer_client.get(f"/api/v1/sync-runs/?{query}")
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == [query.split("=")[0]]


def test_an_empty_query_parameter_is_not_given(viewer_client: Any) -> None:
    OpportunityFactory.create()
    for query in ("closing=&closing_to=&owner=&strategic=", "page=&page_size=", "sort="):
        response = viewer_client.get(f"/api/v1/opportunities/?{query}")
        assert (response.status_code, response.json()["count"]) == (200, 1), query


@pytest.mark.parametrize("sort", [",,", "health,,name", ",-amount_sgd"])
def test_a_sort_with_empty_items_is_a_400(viewer_client: Any, sort: str) -> None:
    response = viewer_client.get("/api/v1/opportunities/", {"sort": sort})
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["sort"]
