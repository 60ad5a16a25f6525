"""The Zoho field mapping: defaults ← ZOHO_FIELD_MAP ← admin rows, checked, shown, synced."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from opportunities.models import Opportunity
from opportunities.roles import Role
from opportunities.tests.factories import UserFactory
from sync.field_mappings import (
    field_map_in_force,
    field_mapping_remove,
    field_mapping_save,
    org_fields_in_force,
)
from sync.models import SyncKind, SyncStatus, SyncTrigger, ZohoFieldMapping
from sync.services import zoho_sync
from sync.tests.zoho_helpers import serve_zoho
from sync.zoho import ZohoClient, ZohoNotConfiguredError
from sync.zoho.field_map import ORG_SPECIFIC_DEFAULTS, FieldSource

pytestmark = pytest.mark.django_db


@pytest.fixture
def author() -> Any:
    return UserFactory.create(role=Role.ADMIN)


def _set(attribute: str, api_name: str, author: Any) -> ZohoFieldMapping:
    existing = ZohoFieldMapping.objects.filter(attribute=attribute).first()
    mapping = existing or ZohoFieldMapping(attribute=attribute)
    mapping.api_name = api_name
    return field_mapping_save(mapping=mapping, user=author)


def _sources() -> dict[str, tuple[str, FieldSource]]:
    fields, problem = org_fields_in_force()
    assert problem == ""
    return {field.attribute: (field.api_name, field.source) for field in fields}


# --- precedence --------------------------------------------------------------------------------


def test_defaults_then_the_environment_then_the_admin(settings: Settings, author: Any) -> None:
    assert field_map_in_force().api_name("territory") == "Region"
    assert _sources()["territory"] == ("Region", FieldSource.DEFAULT)

    settings.ZOHO_FIELD_MAP = "territory=Zone,kickoff_on=Kickoff"
    assert field_map_in_force().api_name("territory") == "Zone"

    mapping = _set("territory", "Sales_Region", author)
    in_force = field_map_in_force()
    assert (in_force.api_name("territory"), in_force.api_name("kickoff_on")) == (
        "Sales_Region",
        "Kickoff",
    )
    sources = _sources()
    assert sources["territory"] == ("Sales_Region", FieldSource.ADMIN)
    assert sources["kickoff_on"] == ("Kickoff", FieldSource.ENVIRONMENT)
    assert sources["market_segment"] == ("Market_Segment", FieldSource.DEFAULT)
    assert len(sources) == len(ORG_SPECIFIC_DEFAULTS) == 10

    field_mapping_remove(mapping=mapping, user=author)
    assert field_map_in_force().api_name("territory") == "Zone"  # back to the environment


def test_a_row_records_who_set_it(author: Any) -> None:
    mapping = _set("invoiced_on", "Invoice_Raised_On", author)
    other = UserFactory.create(role=Role.ADMIN)
    _set("invoiced_on", "Invoiced_On", other)
    mapping.refresh_from_db()
    assert (mapping.created_by, mapping.updated_by, mapping.api_name) == (
        author,
        other,
        "Invoiced_On",
    )


def test_only_a_signed_in_user_sets_a_mapping() -> None:
    with pytest.raises(PermissionDenied):
        field_mapping_save(
            mapping=ZohoFieldMapping(attribute="territory", api_name="Zone"), user=AnonymousUser()
        )
    assert not ZohoFieldMapping.objects.exists()


# --- validation, the rules of ZOHO_FIELD_MAP ---------------------------------------------------


@pytest.mark.parametrize(
    ("attribute", "api_name", "field", "message"),
    [
        ("amount", "Total", "attribute", "Only the org-specific fields"),
        ("territory", "Sales Region", "api_name", "is not a Zoho API name"),
        ("territory", "2nd_Region", "api_name", "is not a Zoho API name"),
        ("territory", "Stage", "api_name", "stage (a standard Zoho field)"),
        ("territory", "Solution_Type", "api_name", "service_line (its default)"),
        ("territory", "Segment", "api_name", "market_segment (from ZOHO_FIELD_MAP)"),
        ("territory", "Kickoff", "api_name", "kickoff_on (set here)"),
    ],
)
def test_a_mapping_the_sync_could_not_read_is_refused(
    settings: Settings, author: Any, attribute: str, api_name: str, field: str, message: str
) -> None:
    settings.ZOHO_FIELD_MAP = "market_segment=Segment"
    _set("kickoff_on", "Kickoff", author)
    with pytest.raises(ValidationError) as refused:
        _set(attribute, api_name, author)
    assert message in " ".join(refused.value.message_dict[field])
    assert ZohoFieldMapping.objects.count() == 1


def test_a_field_may_take_the_name_its_neighbour_left(author: Any) -> None:
    _set("territory", "Sales_Region", author)
    _set("service_line", "Region", author)  # Region is free now
    assert field_map_in_force().api_name("service_line") == "Region"


def test_removing_a_mapping_whose_fallback_is_taken_is_refused(author: Any) -> None:
    territory = _set("territory", "Sales_Region", author)
    _set("service_line", "Region", author)
    with pytest.raises(ValidationError, match="would read Region for it"):
        field_mapping_remove(mapping=territory, user=author)
    assert ZohoFieldMapping.objects.filter(attribute="territory").exists()


def test_a_broken_environment_is_reported_not_hidden(settings: Settings, author: Any) -> None:
    settings.ZOHO_FIELD_MAP = "territory=Sales Region"
    fields, problem = org_fields_in_force()
    assert "is not a Zoho API name" in problem
    assert len(fields) == 10
    with pytest.raises(ValidationError, match="Fix ZOHO_FIELD_MAP first"):
        _set("kickoff_on", "Kickoff", author)


# --- the client --------------------------------------------------------------------------------


def _point_at(settings: Settings, zoho: Any) -> None:
    for name, value in zoho.simulator.environment(zoho.server.url).items():
        setattr(settings, name, value)


def test_from_settings_reads_the_admin_rows(settings: Settings, author: Any) -> None:
    settings.ZOHO_CLIENT_ID = settings.ZOHO_CLIENT_SECRET = settings.ZOHO_REFRESH_TOKEN = "x"
    settings.ZOHO_FIELD_MAP = "territory=Zone"
    _set("territory", "Sales_Region", author)
    fields = ZohoClient.from_settings().field_map.fields_parameter().split(",")
    assert "Sales_Region" in fields
    assert {"Zone", "Region"}.isdisjoint(fields)


def test_from_settings_refuses_an_environment_the_admin_rows_conflict_with(
    settings: Settings, author: Any
) -> None:
    settings.ZOHO_CLIENT_ID = settings.ZOHO_CLIENT_SECRET = settings.ZOHO_REFRESH_TOKEN = "x"
    _set("territory", "Zone", author)
    settings.ZOHO_FIELD_MAP = "service_line=Zone"  # set after the row: the sync says so
    with pytest.raises(ZohoNotConfiguredError, match="maps two attributes to Zone"):
        ZohoClient.from_settings()


def test_a_sync_reads_a_renamed_custom_field_through_the_admin_mapping(
    settings: Settings, author: Any
) -> None:
    with serve_zoho(deals=40) as zoho:
        zoho.simulator.rename_field("Region", "Sales_Region")
        regions = {deal["id"]: deal["Region"] for deal in zoho.simulator.deals()}
        _point_at(settings, zoho)

        before = zoho_sync(kind=SyncKind.FULL, trigger=SyncTrigger.COMMAND)
        blank = set(Opportunity.objects.values_list("territory", flat=True))
        _set("territory", "Sales_Region", author)  # applies from the next run
        after = zoho_sync(kind=SyncKind.FULL, trigger=SyncTrigger.COMMAND)

    assert (before.status, after.status) == (SyncStatus.SUCCEEDED, SyncStatus.SUCCEEDED)
    assert blank == {""}  # the org has no `Region` field any more
    stored = dict(Opportunity.objects.values_list("zoho_id", "territory"))
    assert stored == regions
    assert len(set(regions.values())) > 3


# --- the admin ---------------------------------------------------------------------------------


def _row(html: str, attribute: str) -> str:
    match = re.search(rf'<tr id="field-{attribute}">(.*?)</tr>', html, re.S)
    assert match, attribute
    return match.group(1)


def test_the_list_shows_every_field_its_name_in_force_and_its_source(
    admin_client_: Client, settings: Settings, author: Any
) -> None:
    settings.ZOHO_FIELD_MAP = "kickoff_on=Kickoff"
    mapping = _set("territory", "Sales_Region", author)
    html = admin_client_.get(reverse("admin:sync_zohofieldmapping_changelist")).content.decode()

    for attribute in ORG_SPECIFIC_DEFAULTS:
        assert f'id="field-{attribute}"' in html
    territory = _row(html, "territory")
    assert "<strong><code>Sales_Region</code></strong>" in territory
    assert '<td class="source">admin</td>' in territory
    assert reverse("admin:sync_zohofieldmapping_change", args=[mapping.pk]) in territory
    assert '<td class="source">environment</td>' in _row(html, "kickoff_on")
    segment = _row(html, "market_segment")
    assert '<td class="source">default</td>' in segment
    assert "?attribute=market_segment" in segment
    assert "applies from the next sync run" in html


def test_the_list_says_when_syncs_would_fail(admin_client_: Client, settings: Settings) -> None:
    settings.ZOHO_FIELD_MAP = "{not json"
    html = admin_client_.get(reverse("admin:sync_zohofieldmapping_changelist")).content.decode()
    assert "Syncs fail until this is fixed: ZOHO_FIELD_MAP is not valid JSON" in html


@pytest.mark.parametrize(
    ("api_name", "message"),
    [
        ("Sales Region", "is not a Zoho API name"),
        ("Closing_Date", "Closing_Date is already read for closing_date"),
    ],
)
def test_the_add_form_shows_why_a_mapping_is_refused(
    admin_client_: Client, api_name: str, message: str
) -> None:
    response = admin_client_.post(
        reverse("admin:sync_zohofieldmapping_add"),
        {"attribute": "territory", "api_name": api_name},
    )
    assert response.status_code == 200  # the form again, with the error
    assert message in response.content.decode()
    assert not ZohoFieldMapping.objects.exists()


def test_an_admin_sets_changes_and_removes_a_mapping(admin_client_: Client) -> None:
    add = admin_client_.post(
        reverse("admin:sync_zohofieldmapping_add"),
        {"attribute": "territory", "api_name": "Sales_Region"},
        follow=True,
    )
    mapping = ZohoFieldMapping.objects.get()
    assert "Territory is read from Sales_Region" in add.content.decode()
    assert "applies from the next sync run" in add.content.decode()
    assert mapping.created_by == admin_client_.user  # type: ignore[attr-defined]

    change_url = reverse("admin:sync_zohofieldmapping_change", args=[mapping.pk])
    admin_client_.post(change_url, {"api_name": "Zone"})
    mapping.refresh_from_db()
    assert (mapping.attribute, mapping.api_name) == ("territory", "Zone")

    delete_url = reverse("admin:sync_zohofieldmapping_delete", args=[mapping.pk])
    admin_client_.post(delete_url, {"post": "yes"})
    assert not ZohoFieldMapping.objects.exists()
    assert field_map_in_force().api_name("territory") == "Region"


def test_only_admins_see_the_field_mapping(manager_client: Client) -> None:
    assert manager_client.get(reverse("admin:sync_zohofieldmapping_changelist")).status_code in (
        302,
        403,
    )
    staff_manager = UserFactory.create(role=Role.MANAGER, is_staff=True)
    manager_client.force_login(staff_manager)
    response = manager_client.get(reverse("admin:sync_zohofieldmapping_changelist"))
    assert response.status_code == 403
