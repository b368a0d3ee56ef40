"""End to end: `manage.py serve` for real (the web server + the django-q2 cluster), a wallet
signs in, uploads a multi-chunk file over HTTP, the cluster's worker pins it at the fake pinning
service, the file streams back from the web server's thread (checked, then read again:
FILES_VERIFY_AHEAD_BYTES is one chunk), HEAD answers without a body, and bytes changed on disk
are refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from files.unixfs import CHUNK_SIZE, unixfs_cid
from tests.files.ipfs_server import IpfsServer
from tests.files.test_cid import pattern
from tests.processes import manage, project_env, serving, sign_in


@pytest.fixture
def served(tmp_path: Path, ipfs: IpfsServer):
    env = project_env(
        tmp_path,
        MEDIA_ROOT=str(tmp_path / "media"),
        INDEXER_ENABLED="false",
        STACKS_API_URL="http://127.0.0.1:9",
        IPFS_PINNING_URL=ipfs.url,
        IPFS_PINNING_TOKEN="test-token",
        IPFS_GATEWAY_URL="https://gateway.example",
        FILES_ALLOWED_CONTENT_TYPES="application/zip",
        FILES_VERIFY_AHEAD_BYTES=str(CHUNK_SIZE),  # checked, then read again to stream
    )
    manage(env, "migrate", "-v0")
    with serving(["manage.py", "serve", "--port"], env, tmp_path / "serve.log") as (_, base):
        yield base


def test_upload_pin_and_verified_read_over_http(served: str, ipfs: IpfsServer, tmp_path) -> None:
    token = sign_in(served)
    data = b"PK\x03\x04" + pattern(3 * CHUNK_SIZE + 100)[4:]
    cid = unixfs_cid(data)

    # when: uploaded over HTTP
    up = requests.post(
        f"{served}/api/files",
        files={"file": ("site.zip", data, "application/zip")},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )

    # then: the CID, and a worker of the task cluster pins it
    assert up.status_code == 201, up.text
    assert up.json()["cid"] == cid
    assert up.json()["gateway"] == f"https://gateway.example/ipfs/{cid}"
    deadline = time.monotonic() + 30
    while (info := requests.get(f"{served}/api/files/{cid}/info", timeout=5).json())[
        "pinStatus"
    ] != "pinned" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert info["pinStatus"] == "pinned", info
    assert [p.cid for p in ipfs.pins.values()] == [cid]

    # and it streams back whole, a chunk at a time
    with requests.get(f"{served}/api/files/{cid}", stream=True, timeout=30) as got:
        assert got.status_code == 200
        assert got.headers["Content-Length"] == str(len(data))
        assert got.headers["ETag"] == f'"{cid}"'
        pieces = list(got.iter_content(chunk_size=None))
    assert b"".join(pieces) == data
    head = requests.head(f"{served}/api/files/{cid}", timeout=30)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["Content-Length"] == str(len(data))
    assert head.headers["Accept-Ranges"] == "none"

    # bytes changed on disk are refused
    stored = tmp_path / "media" / "ipfs" / cid
    stored.write_bytes(data[:-1] + b"!")
    refused = requests.get(f"{served}/api/files/{cid}", timeout=30)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "file_integrity_failed"
