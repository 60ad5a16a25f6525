"""Bad input never gives a 500: the API fuzzed from its own OpenAPI schema with schemathesis.

Every operation gets valid and invalid requests (a bounded number of each, derandomized so a
run is repeatable), sent as an Admin's token through the WSGI application, and every answer
must be documented in the schema: its status, its content type and its body.
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
    response_schema_conformance,
    status_code_conformance,
)

from currency.services import rate_override_set
from opportunities.roles import Role
from opportunities.tests.factories import OpportunityFactory, StageMappingFactory, UserFactory
from pipeline_pulse.api.tokens import api_token_create
from pipeline_pulse.models import TokenScope
from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger

pytestmark = pytest.mark.django_db
EXAMPLES_PER_OPERATION = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
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
