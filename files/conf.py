"""The FILES settings, read through one accessor (tests override them with `settings`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.storage import Storage, default_storage

DEFAULTS: dict[str, Any] = {
    "MAX_BYTES": 25 * 1000 * 1000,
    "ALLOWED_CONTENT_TYPES": [],
    "STORAGE_PREFIX": "ipfs",
    "IPFS_PINNING_URL": None,
    "IPFS_PINNING_TOKEN": None,
    "IPFS_API_URL": None,
    "IPFS_GATEWAY_URL": None,
    "PIN_ORIGINS": [],
    "PIN_MAX_ATTEMPTS": 8,
    "PIN_RETRY_SECONDS": 30.0,
    "PIN_POLL_SECONDS": 60.0,
    "PIN_TIMEOUT_SECONDS": 30.0,
    # Downloads: a file this size or smaller is read once, into memory, checked, then sent;
    # a larger one is checked, then read again to stream it (files.selectors).
    "VERIFY_AHEAD_BYTES": 1024 * 1024,
    # DRF rates ("60/min", "100/hour", ...; None: no limit). Files/throttles.py.
    "DOWNLOAD_RATE_ANON": "60/min",  # per client IP
    "DOWNLOAD_RATE_USER": "300/min",
    "UPLOAD_RATE_USER": "60/hour",
    "UPLOAD_RATE_IP": "120/hour",
    # The bytes of the files a user uploaded first (a second upload of the same bytes costs
    # nothing); None: no quota.
    "QUOTA_BYTES_PER_USER": 1000 * 1000 * 1000,
}


def files_settings() -> dict[str, Any]:
    return {**DEFAULTS, **getattr(settings, "FILES", {})}


def pinning_configured() -> bool:
    conf = files_settings()
    return bool(conf["IPFS_PINNING_URL"] or conf["IPFS_API_URL"])


def file_storage() -> Storage:
    """Where the bytes live: Django's default storage (local media unless STORAGES says
    otherwise)."""
    return default_storage


def gateway_url(cid: str) -> str | None:
    gateway = files_settings()["IPFS_GATEWAY_URL"]
    return f"{gateway.rstrip('/')}/ipfs/{cid}" if gateway else None
