"""Serializer fields of the accounts app that other apps' APIs use."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.addresses import InvalidAddress, address_validate
from stxworx.errors import UNPROCESSABLE


class AddressField(serializers.CharField):
    """A Stacks address of the configured network, returned in canonical form."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 128)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            return address_validate(value)
        except InvalidAddress as exc:  # the shape is the schema's; the checksum is not
            raise serializers.ValidationError(str(exc), code=UNPROCESSABLE) from exc
