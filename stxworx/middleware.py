"""JSON for every error under /api/, whatever raises it (the admin keeps its HTML pages)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from stxworx.errors import error_body

logger = logging.getLogger("django.request")


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def exception_response(request: HttpRequest, exc: Exception) -> JsonResponse:
    """The JSON answer to an exception a view let through (DRF's handler covers its own views;
    this is for the rest, and for a 500, which Django would show as an HTML page with DEBUG)."""
    if isinstance(exc, RequestDataTooBig):
        return JsonResponse(
            error_body("payload_too_large", "The request body is too large."), status=413
        )
    if isinstance(exc, SuspiciousOperation):
        return JsonResponse(error_body("bad_request", "The request could not be read."), status=400)
    if isinstance(exc, PermissionDenied):
        return JsonResponse(error_body("forbidden", "You may not do this."), status=403)
    if isinstance(exc, Http404):
        return JsonResponse(error_body("not_found", f"Nothing at {request.path}."), status=404)
    logger.error("Internal Server Error: %s", request.path, exc_info=exc)
    message = "Something went wrong on our side; it has been logged."
    return JsonResponse(error_body("server_error", message), status=500)


class ApiErrorMiddleware:
    """Under /api/: an exception is answered in the error envelope (also with DEBUG on, where
    Django would render its HTML debug page)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return exception_response(request, exception) if is_api(request) else None
