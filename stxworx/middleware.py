"""JSON for every error under /api/, whatever raises it (the admin keeps its HTML pages)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from stxworx import views

logger = logging.getLogger("django.request")


def exception_response(request: HttpRequest, exc: Exception) -> JsonResponse:
    """The JSON answer to an exception a view let through (DRF's handler covers its own views;
    this is for the rest, and for a 500, which Django would show as an HTML page with DEBUG):
    the same answers as the kernel's handler views (handler400/403/404/500)."""
    if isinstance(exc, SuspiciousOperation):  # RequestDataTooBig among them: a 413
        return views.bad_request(request, exc)
    if isinstance(exc, PermissionDenied):
        return views.permission_denied(request, exc)
    if isinstance(exc, Http404):
        return views.not_found(request, exc)
    logger.error("Internal Server Error: %s", request.path, exc_info=exc)
    return views.server_error(request)


class ApiErrorMiddleware:
    """Under /api/: an exception is answered in the error envelope (also with DEBUG on, where
    Django would render its HTML debug page)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return exception_response(request, exception) if views.is_api(request) else None
