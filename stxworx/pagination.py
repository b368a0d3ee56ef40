from __future__ import annotations

from typing import Any

from rest_framework import pagination, serializers
from rest_framework.response import Response

from stxworx.fields import MAX_AMOUNT, QueryIntegerField
from stxworx.serializers import StrictSerializer

MAX_PAGE_SIZE = 100


class PageQuery(StrictSerializer):
    """`?page=&pageSize=` as every list validates them (blank means the default)."""

    page = QueryIntegerField(min_value=1, required=False, help_text="1-based; past the last: 404.")
    pageSize = QueryIntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, required=False, help_text="Default 20."
    )


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=2&pageSize=50`; every list endpoint uses it. A page or size that is not a whole
    number in range is a 400 (not silently the default); a page past the last a 404."""

    page_size = 20
    page_size_query_param = "pageSize"
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        params = {
            key: request.query_params[key]
            for key in ("page", "pageSize")
            if request.query_params.get(key, "") != ""
        }
        serializer = PageQuery(data=params)
        if not serializer.is_valid():
            raise serializers.ValidationError(serializer.errors)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response(
            {
                "count": self.page.paginator.count,
                "page": self.page.number,
                "pageSize": self.get_page_size(self.request),
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "in": "query",
                "name": "page",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT},
                "description": "1-based; past the last page: 404.",
            },
            {
                "in": "query",
                "name": "pageSize",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                "description": "Default 20.",
            },
        ]

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["count", "page", "pageSize", "next", "previous", "results"],
            "additionalProperties": False,
            "properties": {
                "count": {"type": "integer", "minimum": 0},
                "page": {"type": "integer", "minimum": 1},
                "pageSize": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }


def paginate(view: Any, request: Any, queryset: Any, output: Any) -> Response:
    """Paginate a queryset in an APIView with the default paginator. `output` is the rows'
    serializer class, or a function from the page's rows to their JSON as plain dicts (the hot
    lists: no per-field dispatch)."""
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    if isinstance(output, type) and issubclass(output, serializers.BaseSerializer):
        return paginator.get_paginated_response(output(page, many=True).data)
    return paginator.get_paginated_response(output(list(page)))
