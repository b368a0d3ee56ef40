"""The FILES settings, read through one accessor (tests override them with `settings`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.files.storage import Storage, default_storage


def files_settings() -> Mapping[str, Any]:
    """`settings.FILES`: every key, with its default, is in stxworx/settings.py."""
    return settings.FILES


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
