"""The application error type and the one exception handler that renders every API error as
`{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A domain error the API shows to the caller. Subclasses fix `code` and `http_status`."""

    code = "application_error"
    http_status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status
        self.extra = extra or {}


class PayloadTooLarge(ApplicationError):
    code = "payload_too_large"
    http_status = 413

    def __init__(self, max_bytes: int) -> None:
        super().__init__("The request body is too large.", extra={"maxBytes": max_bytes})


# A serializer error with this code is a rule the request's JSON Schema cannot state (a checksum,
# a URL Django's validator refuses, ...): the request is well formed, so the answer is a 422.
UNPROCESSABLE = "unprocessable"


class InvalidInput(ApplicationError):
    """Input that matches the request's schema but breaks a rule found past it (by a service or
    a field's semantic check): a 422. `details` maps the field to its messages. (A 400 means
    the schema says no: a serializer's own error.)"""

    code = UNPROCESSABLE
    http_status = 422

    def __init__(self, message: str, *, field: str | None = None, **kwargs: Any) -> None:
        if field is not None:
            kwargs["extra"] = {field: [message], **kwargs.get("extra", {})}
            message = f"{field}: {message}"
        super().__init__(message, **kwargs)


class NotAllowed(ApplicationError):
    code = "forbidden"
    http_status = 403


class NotFound(ApplicationError):
    code = "not_found"
    http_status = 404


class Conflict(ApplicationError):
    code = "conflict"
    http_status = 409


class InvalidTransition(Conflict):
    code = "invalid_transition"


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _plain_details(detail: Any) -> Any:
    """DRF validation details as plain data. Input fields are declared in camelCase already, and
    the keys of a client's own dictionaries must come back as sent: only DRF's own key is
    renamed."""
    if isinstance(detail, dict):
        return {
            ("nonFieldErrors" if key == "non_field_errors" else str(key)): _plain_details(value)
            for key, value in detail.items()
        }
    if isinstance(detail, list):
        return [_plain_details(item) for item in detail]
    return str(detail)


def _first_message(details: Any, path: str = "") -> str:
    if isinstance(details, dict) and details:
        key, value = next(iter(details.items()))
        here = key if key == "non_field_errors" else (f"{path}.{key}" if path else key)
        return _first_message(value, "" if key == "nonFieldErrors" else here)
    if isinstance(details, list) and details:
        return _first_message(details[0], path)
    return f"{path}: {details}" if path else str(details)


_DRF_CODES = {
    drf.NotAuthenticated: "not_authenticated",
    drf.AuthenticationFailed: "authentication_failed",
    drf.PermissionDenied: "forbidden",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.ParseError: "parse_error",
    drf.Throttled: "rate_limited",
}


def _flat_codes(codes: Any) -> list[str]:
    if isinstance(codes, dict):
        return [code for value in codes.values() for code in _flat_codes(value)]
    if isinstance(codes, list):
        return [code for value in codes for code in _flat_codes(value)]
    return [str(codes)]


def _drf_code(exc: drf.APIException) -> str:
    own = exc.get_codes()
    if isinstance(own, str) and own != exc.default_code:
        return own  # a specific code the raiser chose (token_expired, ...)
    for cls, code in _DRF_CODES.items():
        if isinstance(exc, cls):
            return code
    return "error"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.extra), status=exc.http_status)
    if isinstance(exc, RequestDataTooBig):  # a body over DATA_UPLOAD_MAX_MEMORY_SIZE
        message = "The request body is too large."
        return Response(error_body("payload_too_large", message), status=413)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.ValidationError):
        details = _plain_details(exc.detail)
        codes = _flat_codes(exc.get_codes())
        if codes and all(code == UNPROCESSABLE for code in codes):
            return Response(error_body(UNPROCESSABLE, _first_message(details), details), status=422)
        return Response(
            error_body("validation_error", _first_message(details), details), status=400
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unknown exception: a logged 500
    if isinstance(exc, drf.APIException):
        response.data = error_body(_drf_code(exc), str(exc.detail))
    return response
