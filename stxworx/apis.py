"""Small helpers every app's API uses."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request


def actor(request: Request) -> str:
    """The signed-in user's Stacks address (the permission class has checked sign-in)."""
    return request.user.address


def query(request: Request) -> dict[str, str]:
    """The query string as a dict, without blank values: `?status=&client=` means no filter."""
    return {key: value for key, value in request.query_params.items() if value != ""}


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """Validate `data` (raising a 400 naming the bad field) and return it keyed by the
    fields' sources, ready to pass to a service."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
