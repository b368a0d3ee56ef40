from __future__ import annotations

from stxworx.errors import ApplicationError


class SignInFailed(ApplicationError):
    """The request was well formed but does not prove control of the address (401)."""

    code = "sign_in_failed"
    http_status = 401
