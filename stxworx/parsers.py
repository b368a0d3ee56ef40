from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's parser with two mends. A body over `max_bytes` (by default Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE, the limit Django applies to forms; DRF applies none) is a 413:
    at once when its Content-Length says so, and otherwise after reading one byte past the
    limit, never more. JSON nested deeper than Python's recursion limit is a 400, not a 500."""

    max_bytes: int | None = None

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        # here, not at the top: DRF imports this module while stxworx.errors imports DRF's views
        from stxworx.errors import PayloadTooLarge

        limit = self.max_bytes or settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            request = (parser_context or {}).get("request")
            declared = request.META.get("CONTENT_LENGTH") if request is not None else None
            if str(declared or "0").isdigit() and int(declared or 0) > limit:
                raise PayloadTooLarge(limit)
            raw = stream.read(limit + 1)
            if len(raw) > limit:
                raise PayloadTooLarge(limit)
            stream = io.BytesIO(raw)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
