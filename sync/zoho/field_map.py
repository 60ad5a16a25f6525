"""Which Zoho API field feeds which deal attribute; org-specific names are configuration."""

from __future__ import annotations

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
    """ZOHO_FIELD_MAP names an unknown attribute or an impossible API name."""


@dataclass(frozen=True)
class FieldMap:
    """DealRecord attribute → Zoho API name, for every attribute the client reads."""

    api_names: Mapping[str, str] = field(
        default_factory=lambda: {**STANDARD_FIELDS, **ORG_SPECIFIC_DEFAULTS}
    )

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, str]) -> FieldMap:
        unknown = sorted(set(overrides) - set(ORG_SPECIFIC_DEFAULTS))
        if unknown:
            raise FieldMapError(
                f"ZOHO_FIELD_MAP can only rename the org-specific fields "
                f"({', '.join(ORG_SPECIFIC_DEFAULTS)}); unknown: {', '.join(unknown)}"
            )
        for attribute, api_name in overrides.items():
            if not _API_NAME.match(api_name):
                raise FieldMapError(
                    f"ZOHO_FIELD_MAP: {api_name!r} for {attribute} is not a Zoho API name"
                )
        names = {**STANDARD_FIELDS, **ORG_SPECIFIC_DEFAULTS, **overrides}
        duplicates = sorted({n for n in names.values() if list(names.values()).count(n) > 1})
        if duplicates:
            raise FieldMapError(f"ZOHO_FIELD_MAP maps two attributes to {', '.join(duplicates)}")
        return cls(MappingProxyType(names))

    @classmethod
    def from_setting(cls, value: str) -> FieldMap:
        """Parse ZOHO_FIELD_MAP: a JSON object, or `attr=Api_Name` pairs split by commas."""
        return cls.with_overrides(parse_field_map_setting(value))

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
