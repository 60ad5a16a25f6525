"""Which Zoho API field feeds which deal attribute; org-specific names are configuration.

The standard fields are named alike in every org. An org-specific field's API name comes
from three layers, each overriding the one before: the field catalogue's default, the
ZOHO_FIELD_MAP environment variable, and a row an Admin set in the Django admin.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from opportunities.deal_fields import CRM_FIELDS

# Zoho's standard Deals fields, named the same in every org (from the field catalogue).
STANDARD_FIELDS: Mapping[str, str] = MappingProxyType(
    {field.name: field.zoho_api_name for field in CRM_FIELDS if not field.org_specific}
)
# Custom fields: every org names them differently, so ZOHO_FIELD_MAP may override these.
ORG_SPECIFIC_DEFAULTS: Mapping[str, str] = MappingProxyType(
    {field.name: field.zoho_api_name for field in CRM_FIELDS if field.org_specific}
)

# Get Records accepts at most 50 fields per call.
MAX_FIELDS_PER_CALL = 50
_API_NAME = re.compile(r"^[A-Za-z$][A-Za-z0-9_$]*$")


class FieldMapError(ValueError):
    """An override names an unknown attribute, an impossible API name, or a field already
    read for another attribute."""


class FieldSource(enum.StrEnum):
    """Where an org-specific field's API name comes from; each overrides the one before."""

    DEFAULT = "default"  # the field catalogue
    ENVIRONMENT = "environment"  # ZOHO_FIELD_MAP
    ADMIN = "admin"  # a row set in the Django admin (sync.models.ZohoFieldMapping)


@dataclass(frozen=True)
class OrgField:
    """One org-specific field: its name at each layer, and the one in force."""

    attribute: str
    label: str
    default: str
    environment: str | None = None
    admin: str | None = None

    @property
    def api_name(self) -> str:
        return self.admin or self.environment or self.default

    @property
    def source(self) -> FieldSource:
        if self.admin:
            return FieldSource.ADMIN
        if self.environment:
            return FieldSource.ENVIRONMENT
        return FieldSource.DEFAULT


def org_fields(
    environment: Mapping[str, str] | None = None, admin: Mapping[str, str] | None = None
) -> list[OrgField]:
    """Every org-specific field in catalogue order, with its name from each layer."""
    environment, admin = environment or {}, admin or {}
    return [
        OrgField(
            attribute=field.name,
            label=field.label,
            default=field.zoho_api_name,
            environment=environment.get(field.name),
            admin=admin.get(field.name),
        )
        for field in CRM_FIELDS
        if field.org_specific
    ]


def api_name_problem(api_name: str) -> str | None:
    """Why `api_name` cannot be a Zoho API name, or None when it can."""
    if not _API_NAME.match(api_name):
        return (
            "is not a Zoho API name: letters, digits, _ and $, starting with a letter or $ "
            "(e.g. Sales_Region)"
        )
    return None


def check_overrides(overrides: Mapping[str, str], *, where: str) -> None:
    """Raise FieldMapError unless every override renames a catalogued org-specific attribute
    to a valid API name. `where` names the overrides' origin in the message."""
    unknown = sorted(set(overrides) - set(ORG_SPECIFIC_DEFAULTS))
    if unknown:
        raise FieldMapError(
            f"{where} can only rename the org-specific fields "
            f"({', '.join(ORG_SPECIFIC_DEFAULTS)}); unknown: {', '.join(unknown)}"
        )
    for attribute, api_name in overrides.items():
        problem = api_name_problem(api_name)
        if problem:
            raise FieldMapError(f"{where}: {api_name!r} for {attribute} {problem}")


def shared_api_names(names: Mapping[str, str]) -> dict[str, list[str]]:
    """API names that more than one attribute would read, with those attributes."""
    readers: dict[str, list[str]] = {}
    for attribute, api_name in names.items():
        readers.setdefault(api_name, []).append(attribute)
    return {api_name: found for api_name, found in readers.items() if len(found) > 1}


@dataclass(frozen=True)
class FieldMap:
    """DealRecord attribute → Zoho API name, for every attribute the client reads."""

    api_names: Mapping[str, str] = field(
        default_factory=lambda: {**STANDARD_FIELDS, **ORG_SPECIFIC_DEFAULTS}
    )

    @classmethod
    def with_overrides(
        cls, overrides: Mapping[str, str], *, where: str = "ZOHO_FIELD_MAP"
    ) -> FieldMap:
        check_overrides(overrides, where=where)
        names = {**STANDARD_FIELDS, **ORG_SPECIFIC_DEFAULTS, **overrides}
        shared = shared_api_names(names)
        if shared:
            raise FieldMapError(f"{where} maps two attributes to {', '.join(sorted(shared))}")
        return cls(MappingProxyType(names))

    @classmethod
    def layered(cls, *, environment: Mapping[str, str], admin: Mapping[str, str]) -> FieldMap:
        """The catalogue's defaults, overridden by ZOHO_FIELD_MAP, overridden by the admin."""
        check_overrides(environment, where="ZOHO_FIELD_MAP")
        check_overrides(admin, where="The admin field mapping")
        where = "ZOHO_FIELD_MAP" if not admin else "ZOHO_FIELD_MAP with the admin field mapping"
        return cls.with_overrides({**environment, **admin}, where=where)

    def api_name(self, attribute: str) -> str:
        return self.api_names[attribute]

    def attribute_for(self, api_name: str) -> str | None:
        for attribute, name in self.api_names.items():
            if name == api_name:
                return attribute
        return None

    def fields_parameter(self) -> str:
        """The `fields` query parameter of Get Records (id comes back without asking)."""
        names = list(dict.fromkeys(self.api_names.values()))
        if len(names) > MAX_FIELDS_PER_CALL:
            raise FieldMapError(f"{len(names)} fields requested; Zoho allows at most 50")
        return ",".join(names)


def parse_field_map_setting(value: str) -> dict[str, str]:
    text = value.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FieldMapError(f"ZOHO_FIELD_MAP is not valid JSON: {exc.msg}") from exc
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()):
            raise FieldMapError("ZOHO_FIELD_MAP must map attribute names to API-name strings")
        return {key.strip(): val.strip() for key, val in parsed.items()}
    pairs: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        attribute, separator, api_name = item.partition("=")
        if not separator or not attribute.strip() or not api_name.strip():
            raise FieldMapError(f"ZOHO_FIELD_MAP: {item.strip()!r} is not attr=Api_Name")
        pairs[attribute.strip()] = api_name.strip()
    return pairs
