"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from stxworx.errors import UNPROCESSABLE

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


class LinkField(serializers.URLField):
    """An http(s)/ftp URL. The schema says `format: uri`; a URI Django's validator still refuses
    (no host, a bad IDN, ...) is a 422."""

    def run_validators(self, value: Any) -> None:
        try:
            super().run_validators(value)
        except serializers.ValidationError as exc:
            messages = [str(message) for message in exc.detail]
            raise serializers.ValidationError(messages, code=UNPROCESSABLE) from None


class QueryIntegerField(serializers.IntegerField):
    """A whole number in a query string: decimal digits only (`5`, not `5.0`, ` 5` or `+5`), so
    the schema's `type: integer` is exactly what is accepted. At most a BIGINT by default."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_value", MAX_AMOUNT)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, str) and not (data.isascii() and data.isdigit() and len(data) <= 19):
            self.fail("invalid")
        return super().to_internal_value(data)


class QueryBooleanField(serializers.BooleanField):
    """`true` or `false` in a query string (not DRF's `yes`, `1`, `on`, ...)."""

    def to_internal_value(self, data: Any) -> bool:
        if data in ("true", True):
            return True
        if data in ("false", False):
            return False
        self.fail("invalid", input=data)


class JsonBooleanField(serializers.BooleanField):
    """A JSON true or false; not "yes", 1 or "false" (DRF's BooleanField takes those)."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data
