from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.files.ipfs_server import IpfsServer

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(64))


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    """Each test keeps its files in its own media directory, with no pinning configured."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.FILES = {
        **settings.FILES,
        "IPFS_PINNING_URL": None,
        "IPFS_PINNING_TOKEN": None,
        "IPFS_API_URL": None,
        "IPFS_GATEWAY_URL": None,
        "PIN_ORIGINS": [],
    }
    return tmp_path / "media"


@pytest.fixture
def files_conf(settings) -> Callable[..., None]:
    def set_(**overrides: Any) -> None:
        settings.FILES = {**settings.FILES, **overrides}

    return set_


@pytest.fixture
def ipfs() -> Iterator[IpfsServer]:
    with IpfsServer(token="test-token") as server:
        yield server


@pytest.fixture
def q_sync(monkeypatch) -> None:
    """django-q2 runs queued tasks in-process, at once (its `sync` mode)."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def upload() -> Callable[..., Any]:
    """POST /api/files as `api` with one file (and any extra form fields)."""

    def post(
        api: APIClient,
        data: bytes,
        name: str = "report.txt",
        content_type: str = "text/plain",
        **fields: Any,
    ) -> Any:
        body = {"file": SimpleUploadedFile(name, data, content_type=content_type), **fields}
        return api.post("/api/files", body, format="multipart")

    return post
