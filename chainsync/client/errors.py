"""What the Stacks API client raises: every error is a StacksApiError."""

from __future__ import annotations

from typing import Any


class StacksApiError(Exception):
    """Base of every error this client raises. `route` is a route name, `status` the HTTP status."""

    def __init__(self, message: str, *, route: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.route = route
        self.status = status


class StacksApiUnavailable(StacksApiError):
    """The API could not be reached or kept failing (connection, timeout, 429, 5xx) after retries.

    `retry_after` is set when the server asked for a longer pause than the client may wait.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class StacksApiNotFound(StacksApiError):
    """404 for the thing asked for: unknown or orphaned tx, unknown block, contract or function."""


class StacksApiGone(StacksApiError):
    """The route is disabled (410) or missing (404 on the route itself) and no fallback is left."""


class StacksApiRejected(StacksApiError):
    """Another 4xx (bad parameter, missing or invalid key): retrying the same request won't help."""


class StacksApiBadResponse(StacksApiError):
    """A body that is not JSON or not the documented shape, or an unexpected status."""


class CallReadFailed(StacksApiError):
    """A read-only call answered `{"okay": false, "cause": ...}`."""

    def __init__(self, message: str, *, cause: str, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.cause = cause


class _ShapeError(ValueError):
    pass
