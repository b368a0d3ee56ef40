from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import csrf
from django.views.decorators.csrf import csrf_exempt

from stxworx.errors import error_body

logger = logging.getLogger(__name__)


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: 200 while the process is up."""
    return JsonResponse({"status": "ok"})


class IndexerLag(Protocol):
    lag: int
    max_lag: int
    state: str  # "starting", "failing", "ok" or "disabled"
    last_error: str | None
    last_success_at: datetime | None


def readyz(request: HttpRequest, *, indexer: Callable[[], IndexerLag]) -> JsonResponse:
    """Readiness: 200 when the database answers and the chain indexer has completed a poll, is
    not failing, and lags less than its limit (CHAINSYNC['MAX_LAG_BLOCKS'] blocks); 503 with
    the reason otherwise. `indexer` reads the indexer's status (wired in stxworx/urls.py: the
    kernel imports no app)."""
    try:
        status = indexer()  # its queries are the database check
    except DatabaseError as exc:
        logger.warning("readyz: the database does not answer: %s", exc)
        details = {"database": "unavailable"}
        return JsonResponse(
            error_body("not_ready", "The database does not answer.", details), status=503
        )
    if status.state == "starting":
        message = "The chain indexer has not completed a poll yet."
        return JsonResponse(
            error_body("not_ready", message, {"database": "ok", "indexer": "starting"}),
            status=503,
        )
    if status.state == "failing":
        last = status.last_success_at.isoformat() if status.last_success_at else None
        error = (status.last_error or "")[:300]
        message = f"The chain indexer keeps failing (last success {last}): {error}"
        details = {"database": "ok", "indexer": "failing", "lastSuccessAt": last}
        return JsonResponse(error_body("not_ready", message, details), status=503)
    if status.lag >= status.max_lag:
        message = f"The chain indexer is {status.lag} blocks behind (ready below {status.max_lag})."
        details = {"database": "ok", "lag": status.lag, "maxLag": status.max_lag}
        return JsonResponse(error_body("not_ready", message, details), status=503)
    return JsonResponse({"database": "ok", "lag": status.lag})


@csrf_exempt  # an unknown path under /api/ is a 404 for any method, not a CSRF page
def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("not_found", f"Nothing at {request.path}."), status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        error_body("server_error", "Something went wrong on our side; it has been logged."),
        status=500,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    if isinstance(exception, RequestDataTooBig):  # a body over DATA_UPLOAD_MAX_MEMORY_SIZE
        message = "The request body is too large."
        return JsonResponse(error_body("payload_too_large", message), status=413)
    return JsonResponse(error_body("bad_request", "The request could not be read."), status=400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: JSON under /api/ (a browser session without its CSRF token), Django's
    own page elsewhere (the admin)."""
    if not is_api(request):
        return csrf.csrf_failure(request, reason=reason)
    message = f"CSRF check failed: {reason}" if reason else "CSRF check failed."
    return JsonResponse(error_body("csrf_failed", message), status=403)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("forbidden", "You may not do this."), status=403)
