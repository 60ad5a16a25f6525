"""The Zoho field mapping: the map in force for a sync, and the rows Admins set or remove.

An org-specific deal field is read from the catalogue's default API name, overridden by
ZOHO_FIELD_MAP, overridden by a ZohoFieldMapping row set in the Django admin. A row is
checked with the same rules as ZOHO_FIELD_MAP (sync.zoho.field_map): a catalogued
org-specific field, a valid API name, and no Zoho field read for two deal fields, counting
the standard fields, the environment and the other rows. Each sync run builds its client,
and so its field map, when it starts: a change applies from the next run.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from pipeline_pulse.models import acting_user
from sync.models import ZohoFieldMapping
from sync.zoho.field_map import (
    ORG_SPECIFIC_DEFAULTS,
    STANDARD_FIELDS,
    FieldMap,
    FieldMapError,
    OrgField,
    api_name_problem,
    check_overrides,
    org_fields,
    parse_field_map_setting,
    shared_api_names,
)

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

logger = logging.getLogger(__name__)


def field_mapping_environment() -> dict[str, str]:
    """ZOHO_FIELD_MAP's overrides; FieldMapError when the setting cannot be read, or renames
    an unknown field or to an impossible API name."""
    overrides = parse_field_map_setting(settings.ZOHO_FIELD_MAP)
    check_overrides(overrides, where="ZOHO_FIELD_MAP")
    return overrides


def field_mapping_admin(*, excluding: int | None = None) -> dict[str, str]:
    """The Admins' overrides, attribute → API name (without the row `excluding`)."""
    rows = ZohoFieldMapping.objects.exclude(pk=excluding) if excluding else ZohoFieldMapping.objects
    return dict(rows.values_list("attribute", "api_name"))


def field_map_in_force() -> FieldMap:
    """The field map the next sync reads with; FieldMapError says what is wrong."""
    return FieldMap.layered(environment=field_mapping_environment(), admin=field_mapping_admin())


def org_fields_in_force() -> tuple[list[OrgField], str]:
    """Every org-specific field with its name at each layer, for the admin; and what is
    wrong with the map in force ("" when nothing), which syncs would fail on."""
    admin = field_mapping_admin()
    try:
        environment = field_mapping_environment()
    except FieldMapError as exc:
        return org_fields(admin=admin), str(exc)
    try:
        FieldMap.layered(environment=environment, admin=admin)
    except FieldMapError as exc:
        return org_fields(environment, admin), str(exc)
    return org_fields(environment, admin), ""


def _readers(names: dict[str, str], api_name: str, attribute: str) -> list[str]:
    return [other for other in shared_api_names(names).get(api_name, []) if other != attribute]


def _describe(attribute: str, environment: dict[str, str], admin: dict[str, str]) -> str:
    if attribute in STANDARD_FIELDS:
        return f"{attribute} (a standard Zoho field)"
    if attribute in admin:
        return f"{attribute} (set here)"
    if attribute in environment:
        return f"{attribute} (from ZOHO_FIELD_MAP)"
    return f"{attribute} (its default)"


def field_mapping_validate(*, attribute: str, api_name: str, pk: int | None = None) -> None:
    """Raise ValidationError (by form field) unless `attribute` may be read from `api_name`,
    given the standard fields, ZOHO_FIELD_MAP and the other rows."""
    if attribute not in ORG_SPECIFIC_DEFAULTS:
        raise ValidationError(
            {"attribute": f"Only the org-specific fields can be mapped: {attribute!r} is not one."}
        )
    problem = api_name_problem(api_name)
    if problem:
        raise ValidationError({"api_name": f"{api_name!r} {problem}."})
    try:
        environment = field_mapping_environment()
    except FieldMapError as exc:
        raise ValidationError(f"Fix ZOHO_FIELD_MAP first: {exc}") from exc
    admin = field_mapping_admin(excluding=pk)
    admin.pop(attribute, None)
    names = {**STANDARD_FIELDS, **ORG_SPECIFIC_DEFAULTS, **environment, **admin}
    names[attribute] = api_name
    readers = _readers(names, api_name, attribute)
    if readers:
        taken = ", ".join(_describe(other, environment, admin) for other in readers)
        message = (
            f"{api_name} is already read for {taken}: one Zoho field feeds one deal field. "
            "Map that field elsewhere first."
        )
        raise ValidationError({"api_name": message})


@transaction.atomic
def field_mapping_save(
    *, mapping: ZohoFieldMapping, user: AbstractBaseUser | AnonymousUser | None
) -> ZohoFieldMapping:
    """Set an org-specific field's API name; ValidationError says why it cannot be."""
    author = acting_user(user, required=True)
    field_mapping_validate(attribute=mapping.attribute, api_name=mapping.api_name, pk=mapping.pk)
    if mapping.pk is None:
        mapping.created_by = author
    mapping.updated_by = author
    mapping.full_clean()
    mapping.save()
    logger.info(
        "Zoho field mapping: %s read from %s, set by %s (from the next sync run)",
        mapping.attribute,
        mapping.api_name,
        author,
    )
    return mapping


@transaction.atomic
def field_mapping_remove(
    *, mapping: ZohoFieldMapping, user: AbstractBaseUser | AnonymousUser | None
) -> None:
    """Remove an Admin's mapping: the field falls back to ZOHO_FIELD_MAP or its default.

    Refused (ValidationError) when the name it falls back to is read for another field.
    """
    author = acting_user(user, required=True)
    try:
        environment = field_mapping_environment()
    except FieldMapError:
        environment = {}  # syncs fail on ZOHO_FIELD_MAP itself; removing a row cannot worsen it
    admin = field_mapping_admin(excluding=mapping.pk)
    fallback = environment.get(mapping.attribute) or ORG_SPECIFIC_DEFAULTS[mapping.attribute]
    names = {**STANDARD_FIELDS, **ORG_SPECIFIC_DEFAULTS, **environment, **admin}
    readers = _readers(names, fallback, mapping.attribute)
    if readers:
        taken = ", ".join(_describe(other, environment, admin) for other in readers)
        raise ValidationError(
            f"Removing the mapping of {mapping.attribute} would read {fallback} for it, which "
            f"is already read for {taken}. Change that mapping first."
        )
    mapping.delete()
    logger.info(
        "Zoho field mapping: %s no longer set here (%s from the next sync run), removed by %s",
        mapping.attribute,
        fallback,
        author,
    )
