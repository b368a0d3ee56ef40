from __future__ import annotations

import copy
from typing import Any

from rest_framework import serializers

from stxworx.errors import UNPROCESSABLE


def _string_problem(field: serializers.Field, value: Any) -> tuple[str, str] | None:
    """(message, code) when `value` cannot be the string `field` wants; None to let the field
    decide. A non-string is the schema's `type: string` (400). A string with NUL or one that is
    only whitespace (DRF trims it to blank) matches the schema but is refused past it (422)."""
    if not isinstance(field, serializers.CharField) or value is None:
        return None
    if not isinstance(value, str):
        return "Not a valid string.", "invalid"
    if "\x00" in value:
        return "Null characters are not allowed.", UNPROCESSABLE
    if value and field.trim_whitespace and not field.allow_blank and not value.strip():
        return "This field may not be only whitespace.", UNPROCESSABLE
    return None


def _value_problems(field: serializers.Field, value: Any) -> Any:
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        found = {
            index: [serializers.ErrorDetail(*problem)]
            for index, item in enumerate(value)
            if (problem := _string_problem(field.child, item)) is not None
        }
        return found or None
    problem = _string_problem(field, value)
    return [serializers.ErrorDetail(*problem)] if problem else None


def _flat(field: serializers.Field) -> bool:
    if isinstance(field, serializers.BaseSerializer):
        return False
    return not (hasattr(field, "child") or hasattr(field, "child_relation"))


class StrictSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know, so a client that sends
    `status` or `onChainId` learns it cannot set them instead of being silently ignored; and
    strings that are strings (DRF's CharField would take `5` as "5").

    Its fields are copied per instance without DRF's deep copy (which runs each field's
    `__init__` again: 8 % of a job-board request, most of validating its query). A flat field
    only needs a copy of its own to bind to the instance; a field holding other fields (a
    nested serializer, a list's child) is still deep-copied, so no two instances share one."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            name: copy.copy(field) if _flat(field) else copy.deepcopy(field)
            for name, field in self._declared_fields.items()
        }

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field; it cannot be set here."] for name in unknown}
                )
            problems = {
                name: found
                for name, field in self.fields.items()
                if name in data and (found := _value_problems(field, data[name])) is not None
            }
            if problems:
                raise serializers.ValidationError(problems)
        return super().to_internal_value(data)
