"""The OpenAPI schema says what the server answers (drf-spectacular, DEFAULT_SCHEMA_CLASS).

- Every list is documented as its real page envelope (stxworx.pagination) with `page`/`pageSize`.
- Every operation lists the error statuses it can answer, each with the one `Error` envelope
  (`{"error": {"code", "message", "details"}}`); the statuses that follow from the view (a body,
  a query, a path parameter, sign-in, throttles) are added here, the ones a service decides
  (403, 409, 422, ...) are declared on the method with `@errors(...)`.
- Serializer objects are closed (`additionalProperties: false`): StrictSerializer refuses unknown
  input fields, and outputs name every key they answer.
- Optional query parameters allow the empty value (`?status=` means no filter, stxworx.apis.query).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated

from stxworx.errors import ApplicationError
from stxworx.pagination import PageNumberPagination

# Codes raised with an explicit `code=` (not a class attribute), by DRF, and by the JSON error
# views and middleware; ApplicationError subclasses add their own (error_codes()).
OTHER_CODES = {
    # accounts: sign-in and tokens
    "account_disabled",
    "address_mismatch",
    "challenge_expired",
    "challenge_mismatch",
    "challenge_unknown",
    "challenge_used",
    "public_key_mismatch",
    "signature_invalid",
    "token_expired",
    "token_invalid",
    "token_revoked",
    "token_user_unknown",
    "freelancer_mismatch",
    # files
    "cid_mismatch",
    "file_empty",
    "file_not_found",
    "pinning_disabled",
    # stxworx.errors and DRF
    "validation_error",
    "unprocessable",
    "payload_too_large",
    "not_authenticated",
    "authentication_failed",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "not_acceptable",
    "unsupported_media_type",
    "parse_error",
    "rate_limited",
    "error",
    # stxworx.views and stxworx.middleware
    "bad_request",
    "csrf_failed",
    "server_error",
}


def _subclasses(cls: type) -> list[type]:
    return [sub for child in cls.__subclasses__() for sub in (child, *_subclasses(child))]


# ApplicationError subclasses only the indexer raises, in modules no API view imports: whether
# they exist when the schema is built depends on what the process imported before (the indexer,
# a test), and the schema must not (tests/clients compares it byte for byte).
INDEXER_ONLY_CODES = {"contract_mismatch"}


def error_codes() -> list[str]:
    """Every `error.code` the API can answer."""
    classes = [ApplicationError, *_subclasses(ApplicationError)]
    return sorted((OTHER_CODES | {cls.code for cls in classes}) - INDEXER_ONLY_CODES)


def error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Every error under /api/, whatever its status.",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "details"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "enum": error_codes()},
                    "message": {"type": "string", "description": "For people; may change."},
                    "details": {
                        "type": "object",
                        "description": "400 and 422: each field (camelCase, nested as sent) "
                        "with its messages; otherwise facts about the error (maxBytes, ...).",
                    },
                },
            }
        },
    }


ERROR_DESCRIPTIONS = {
    400: "The request does not match this schema (`validation_error`: `details` names each "
    "field; `parse_error`: the body is not JSON). Never sent for a request the schema allows.",
    401: "Not signed in, or the token is invalid, expired or revoked (`not_authenticated`, "
    "`token_*`); on sign-in, a signature that does not prove the address (`sign_in_failed`).",
    403: "Signed in, but not allowed (the code says why).",
    404: "No such resource (or not one you may see), or a page past the last.",
    409: "The resource's state does not allow this now (a transition, a duplicate).",
    413: "The body (or file) is larger than allowed (`payload_too_large`, `file_too_large`, "
    "`storage_quota_exceeded`).",
    415: "The body's media type is not accepted (`unsupported_media_type`), or a file's bytes "
    "are not an allowed type (`unsupported_file_type`).",
    422: "Matches the schema, but breaks a rule the schema cannot state (`unprocessable`: the "
    "milestones do not add up to the budget, an address checksum, ...; `details` names the field).",
    429: "Rate-limited (`rate_limited`); retry after the `Retry-After` header's seconds.",
    503: "The Stacks API could not be read (`chain_api_unavailable`).",
}


def errors(*statuses: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the error statuses a view method answers beyond those its shape implies (403 for
    a party check, 409 for a state, 422 for a rule past the schema, ...)."""

    def mark(method: Callable[..., Any]) -> Callable[..., Any]:
        method.api_errors = (*getattr(method, "api_errors", ()), *statuses)
        return method

    return mark


class AutoSchema(SpectacularAutoSchema):
    def _get_paginator(self) -> Any:
        # APIViews paginate by hand (stxworx.pagination.paginate): every GET list is a page.
        return PageNumberPagination() if self.method == "GET" else None

    def _is_paginated(self) -> bool:
        return self.method == "GET" and self._is_list_view()

    def _get_parameters(self) -> list[dict[str, Any]]:
        parameters = super()._get_parameters()  # with the paginator's page and pageSize
        for parameter in parameters:
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True  # blank means absent (stxworx.apis.query)
        return parameters

    def _get_request_for_media_type(self, serializer: Any, direction: str = "request") -> Any:
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if isinstance(serializer, PolymorphicProxySerializer):
            # one of several bodies (no discriminator): required when each has a required field
            shapes = [force_instance(shape) for shape in serializer.serializers]
            required = all(
                any(f.required and not f.read_only for f in shape.fields.values())
                for shape in shapes
            )
        return schema, required

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        schema = super()._map_basic_serializer(serializer, direction)
        schema["additionalProperties"] = False
        if "__doc__" not in vars(type(serializer)) or not type(serializer).__doc__:
            schema.pop("description", None)  # not a base class's docstring (StrictSerializer's)
        return schema

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions=False) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DictField) and not field.allow_empty:
            schema["minProperties"] = 1
        if isinstance(field, serializers.ListSerializer):  # `many=True` with its bounds
            if field.min_length is not None or not field.allow_empty:
                schema["minItems"] = max(field.min_length or 0, 0 if field.allow_empty else 1)
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        return schema

    def _error_statuses(self) -> set[int]:
        view, method = self.view, self.method
        statuses = set(getattr(getattr(view, method.lower(), None), "api_errors", ()))
        parameters = super()._get_parameters()
        if method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            statuses |= {400, 413, 415}
        if any(p["in"] == "query" for p in parameters) or self._is_paginated():
            statuses.add(400)
        if any(p["in"] == "path" for p in parameters) or self._is_paginated():
            statuses.add(404)
        authenticators = view.get_authenticators()
        if authenticators:
            statuses.add(401)  # a bad or expired Bearer token, on any view that reads one
        if any(isinstance(p, IsAuthenticated) for p in view.get_permissions()):
            statuses.add(401)
        unsafe = method not in ("GET", "HEAD", "OPTIONS")
        if unsafe and any(isinstance(a, SessionAuthentication) for a in authenticators):
            statuses.add(403)  # CSRF, for a browser session (the admin's cookie)
        if view.get_throttles():
            statuses.add(429)
        return statuses

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        component = ResolvedComponent(
            name="Error", type=ResolvedComponent.SCHEMA, schema=error_schema(), object="Error"
        )
        self.registry.register_on_missing(component)
        for status in sorted(self._error_statuses()):
            responses.setdefault(
                str(status),
                {
                    "description": ERROR_DESCRIPTIONS[status],
                    "content": {"application/json": {"schema": component.ref}},
                },
            )
        return responses
