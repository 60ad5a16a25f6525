"""One error body on API paths, from DRF and from Django's own handlers; HTML elsewhere."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def _error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert list(body) == ["error"]
    assert set(body["error"]) == {"code", "message", "details"}
    error: dict[str, Any] = body["error"]
    return error


def test_an_unknown_api_path_is_a_json_404_and_a_page_an_html_one(viewer_client: Client) -> None:
    api = viewer_client.get("/api/v1/no-such-thing/")
    page = viewer_client.get("/no-such-page/")

    assert (api.status_code, _error(api)["code"]) == (404, "not_found")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


def test_a_method_the_path_lacks_is_a_405_body(viewer_client: Client) -> None:
    response = viewer_client.delete("/api/v1/pipeline/summary/")
    assert (response.status_code, _error(response)["code"]) == (405, "method_not_allowed")


def test_a_body_that_is_not_json_is_a_400_or_415(manager_client: Client) -> None:
    deal = OpportunityFactory.create()
    url = f"/api/v1/opportunities/{deal.pk}/"
    garbled = manager_client.patch(url, "{oops", content_type="application/json")
    form = manager_client.patch(
        url, "probability=3", content_type="application/x-www-form-urlencoded"
    )

    assert (garbled.status_code, _error(garbled)["code"]) == (400, "parse_error")
    assert (form.status_code, _error(form)["code"]) == (415, "unsupported_media_type")


def test_a_crash_is_a_500_body_that_says_nothing_of_the_cause(
    manager_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    manager_client.raise_request_exception = False
    secret = "password=hunter2 at db.internal"
    with mock.patch("opportunities.api.views.deals_visible_to", side_effect=RuntimeError(secret)):
        response = manager_client.get("/api/v1/opportunities/")

    assert response.status_code == 500
    error = _error(response)
    assert error["code"] == "server_error"
    assert secret not in response.content.decode()
    assert "RuntimeError" in caplog.text  # logged for the operator, not shown to the caller


def test_a_crash_on_a_page_is_djangos_html_500(manager_client: Client) -> None:
    manager_client.raise_request_exception = False
    with mock.patch(
        "opportunities.views.dashboard.deals_visible_to", side_effect=RuntimeError("x")
    ):
        response = manager_client.get("/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_djangos_permission_denied_inside_an_api_view_keeps_the_body(
    manager_client: Client,
) -> None:
    deal = OpportunityFactory.create()
    with mock.patch(
        "opportunities.api.views.opportunity_edit",
        side_effect=PermissionDenied("You may not edit this deal."),
    ):
        response = manager_client.patch(
            f"/api/v1/opportunities/{deal.pk}/", {"probability": 5}, content_type="application/json"
        )
    assert response.status_code == 403
    assert _error(response)["message"] == "You may not edit this deal."


def test_the_django_handlers_answer_json_only_under_api(rf: Any) -> None:
    from pipeline_pulse.api import errors

    api, page = rf.get("/api/v1/x/"), rf.get("/x/")
    denied = PermissionDenied("Nope.")
    assert _error(errors.permission_denied(api, denied))["message"] == "Nope."
    assert _error(errors.bad_request(api, ValueError()))["code"] == "bad_request"
    assert errors.permission_denied(page, denied)["Content-Type"].startswith("text/html")
    assert errors.bad_request(page, ValueError()).status_code == 400
