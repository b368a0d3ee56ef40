"""Rate limits of the files API (DRF throttles, counters in the default cache: per process in
the embedded setup, shared through Redis in production). Rates come from FILES (`None`: no
limit): downloads re-hash the bytes they serve, and sign-in is free, so uploads are limited per
user and per client IP."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from files.conf import files_settings


class _FilesThrottle(SimpleRateThrottle):
    setting: str
    signed_in: bool | None = None  # True: only signed-in callers; False: only anonymous ones

    def get_rate(self) -> str | None:
        return files_settings()[self.setting]

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        user = request.user
        authenticated = bool(user and user.is_authenticated)
        if self.signed_in is not None and authenticated != self.signed_in:
            return None
        ident = user.pk if self.signed_in else self.get_ident(request)
        return f"throttle:files:{self.setting}:{ident}"


class DownloadAnonThrottle(_FilesThrottle):
    """GET/HEAD /api/files/:cid by anonymous callers, per client IP."""

    setting = "DOWNLOAD_RATE_ANON"
    signed_in = False


class DownloadUserThrottle(_FilesThrottle):
    """GET/HEAD /api/files/:cid by a signed-in user."""

    setting = "DOWNLOAD_RATE_USER"
    signed_in = True


class UploadUserThrottle(_FilesThrottle):
    """POST /api/files per signed-in user."""

    setting = "UPLOAD_RATE_USER"
    signed_in = True


class UploadIpThrottle(_FilesThrottle):
    """POST /api/files per client IP, whoever is signed in (new wallets cost nothing)."""

    setting = "UPLOAD_RATE_IP"
