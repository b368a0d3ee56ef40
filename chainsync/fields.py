"""A model field for the contract's u128 amounts, exact on every database."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core import exceptions
from django.db import models

U128_MAX = 2**128 - 1
U128_DIGITS = len(str(U128_MAX))  # 39


class U128Field(models.Field):
    """An unsigned 128-bit integer (a Clarity uint), read back as a Python int.

    PostgreSQL keeps it as numeric(39, 0). SQLite has no exact type that wide (its numbers are
    64-bit integers or doubles, and Django reads decimals through a 15-digit context), so there it
    is text, zero-padded to 39 digits: equality, ordering and range lookups in SQL stay numeric.
    Sums belong in Python (SQLite would add the texts as doubles)."""

    description = "Unsigned 128-bit integer"
    empty_strings_allowed = False
    default_error_messages = {"invalid": "“%(value)s” is not an integer from 0 to 2^128 - 1."}

    def db_type(self, connection: Any) -> str:
        if connection.vendor == "postgresql":
            return f"numeric({U128_DIGITS}, 0)"
        return f"varchar({U128_DIGITS})"

    def to_python(self, value: Any) -> int | None:
        if value is None:
            return None
        try:
            number = None if isinstance(value, bool | float) else int(value)
        except (TypeError, ValueError):
            number = None
        if number is None or (isinstance(value, Decimal) and number != value):
            number = None
        if number is None or not 0 <= number <= U128_MAX:
            raise exceptions.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            )
        return number

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> int | None:
        return None if value is None else int(value)

    def get_prep_value(self, value: Any) -> int | None:
        value = super().get_prep_value(value)
        return None if value is None else self.to_python(value)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None or connection.vendor == "postgresql":
            return value
        return str(value).zfill(U128_DIGITS)

    def db_preparer(self, connection: Any) -> Callable[[Any], Any]:
        """What get_db_prep_save gives on `connection`, with the common value (an int in range)
        prepared directly, without the validation chain (stxworx.sql asks a field for this)."""
        postgres = connection.vendor == "postgresql"

        def prepare(value: Any) -> Any:
            if type(value) is not int or not 0 <= value <= U128_MAX:
                return self.get_db_prep_save(value, connection)
            return value if postgres else str(value).zfill(U128_DIGITS)

        return prepare
