"""Request bodies read as the schema says them: each field takes its JSON type and no other.

DRF coerces what it can: `{"reason": 0}` becomes the text "0", `{"probability": "40"}` the
number 40, `{"amount": 0.1}` a Decimal from a float. The OpenAPI schema promises a string,
an integer and a decimal string; an integration that sends otherwise has a bug we should
tell it about, and a money amount that went through a float may already have lost a digit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers


def _json_type_problem(field: serializers.Field[Any, Any, Any, Any], value: Any) -> str | None:
    """What is wrong with `value`'s JSON type for `field`, or None."""
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Send true or false."
    if isinstance(field, serializers.IntegerField):
        whole = isinstance(value, int) and not isinstance(value, bool)
        return None if whole else "Send a whole number, e.g. 40."
    if isinstance(field, serializers.DecimalField):
        return None if isinstance(value, str) else 'Send the number as a string, e.g. "125000.50".'
    if isinstance(field, serializers.MultipleChoiceField | serializers.ListField):
        return None if isinstance(value, list) else "Send a list."
    if isinstance(field, serializers.ChoiceField):
        # DRF would take "1" for the choice 1 and 1 for "1".
        exact = any(_json_kind(value) == _json_kind(key) and value == key for key in field.choices)
        return None if exact else f"{value!r} is not one of the choices."
    if isinstance(field, serializers.CharField | serializers.DateField | serializers.DateTimeField):
        if not isinstance(value, str):
            return "Send a string."
        # As the schema counts: before DRF trims the whitespace off.
        limit = getattr(field, "max_length", None)
        if limit is not None and len(value) > limit:
            return f"Ensure this field has no more than {limit} characters."
    return None


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else type(value).__name__


class StrictJsonSerializer(serializers.Serializer[Any]):
    """A request body's serializer: each field's value must already be its JSON type."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            errors = {
                name: [problem]
                for name, field in self.fields.items()
                if not field.read_only
                and name in data
                and data[name] is not None  # null is the field's allow_null to judge
                and (problem := _json_type_problem(field, data[name])) is not None
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
