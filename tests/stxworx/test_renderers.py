"""The orjson renderer writes what DRF's JSONRenderer writes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer

from stxworx.renderers import JSONRenderer

CASES = [
    {"a": 1, "b": [1, 2.5, None, True], "c": "é \u2028 \u2029 </script>"},
    {"when": datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=UTC)},
    {"when": datetime(2026, 12, 7, 1, 2, 3, tzinfo=dt_timezone(timedelta(hours=2)))},
    {"day": date(2026, 12, 7), "at": time(1, 2, 3), "span": timedelta(seconds=90)},
    {"lazy": gettext_lazy("This field is required."), "detail": ErrorDetail("x", code="y")},
    {"id": uuid.UUID(int=7), "amount": Decimal("1.25"), 3: "int key"},
    {"uint128": 2**128 - 1, "tuple": (1, 2), "set": {1}},
    [],
    "plain",
]


@pytest.mark.parametrize("data", CASES)
def test_orjson_renderer_matches_drf(data):
    assert JSONRenderer().render(data) == DrfJSONRenderer().render(data)


def test_none_is_an_empty_body_and_indent_is_honoured():
    assert JSONRenderer().render(None) == b""
    indented = JSONRenderer().render({"a": [1]}, "application/json; indent=2")
    assert indented == DrfJSONRenderer().render({"a": [1]}, "application/json; indent=2")
