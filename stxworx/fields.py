"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# Amounts are stored in BIGINT columns; the contract's u128 is wider, but no real budget is.
MAX_AMOUNT = 2**63 - 1


@extend_schema_field(
    {"type": "integer", "format": "int64", "minimum": 1, "description": "Base units."}
)
class AmountField(serializers.Field):
    """A positive integer amount in base units (micro-STX, sats). Accepts a JSON integer or a
    string of digits (large values survive JavaScript that way); refuses floats and booleans."""

    default_error_messages = {
        "invalid": "Must be an integer amount in base units (micro-STX or sats).",
        "min_value": "Must be greater than zero.",
        "max_value": f"Must be at most {MAX_AMOUNT}.",
    }

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, str):
            if not data.isascii() or not data.isdigit() or len(data) > 20:
                self.fail("invalid")
            data = int(data)
        if data <= 0:
            self.fail("min_value")
        if data > MAX_AMOUNT:
            self.fail("max_value")
        return data

    def to_representation(self, value: int) -> int:
        return int(value)


class StrictIntegerField(serializers.IntegerField):
    """An integer that must be a JSON integer, not `"5"`, `5.0` or `true`."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)
