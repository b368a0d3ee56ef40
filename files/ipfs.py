"""Clients of the two ways to get a file onto IPFS.

- An IPFS Pinning Service API endpoint (https://ipfs.github.io/pinning-services-api-spec/):
  `POST /pins` {cid, name, origins, meta} and `GET /pins/{requestid}`, bearer token; a pin is
  queued -> pinning -> pinned | failed. The service fetches the bytes over IPFS itself (from
  `origins`, or from the Kubo node below when both are configured).
- A Kubo node's RPC: `POST /api/v0/add` with the bytes (streamed, multipart) and the options
  that give the same CID as ours; Kubo pins what it adds.

Errors are PinError: `transient` (connection, timeout, 429, 5xx, an unreadable answer) are
retried by the caller; the rest (bad token, refused request) are final.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import requests

from files.errors import PinError
from files.unixfs import CHUNK_SIZE

PIN_STATUSES = frozenset({"queued", "pinning", "pinned", "failed"})
KUBO_ADD_PARAMS = {
    "cid-version": "1",
    "raw-leaves": "true",
    "chunker": f"size-{CHUNK_SIZE}",
    "hash": "sha2-256",
    "pin": "true",
    "quieter": "true",
}


@dataclass(frozen=True)
class PinResult:
    request_id: str
    status: str  # queued | pinning | pinned | failed
    info: str = ""


def _transient(response: requests.Response) -> bool:
    return response.status_code == 429 or response.status_code >= 500


def _reason(response: requests.Response) -> str:
    """The error the service gave: the spec's {"error": {reason, details}}, Kubo's {Message},
    else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            parts = [str(error.get("reason", "")), str(error.get("details", "") or "")]
            return f"HTTP {response.status_code}: " + ": ".join(p for p in parts if p)
        if "Message" in body:
            return f"HTTP {response.status_code}: {body['Message']}"
    return f"HTTP {response.status_code}: {str(body)[:200]}"


class PinningServiceClient:
    def __init__(self, base_url: str, token: str | None, *, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def pin_add(
        self, *, cid: str, name: str, origins: list[str], meta: dict[str, str]
    ) -> PinResult:
        body = {"cid": cid, "name": name[:255], "origins": origins, "meta": meta}
        return self._pin_status(self._send("POST", "/pins", json=body))

    def pin_get(self, *, request_id: str) -> PinResult | None:
        """The pin's status; None when the service does not know the request (404)."""
        response = self._send("GET", f"/pins/{requests.utils.quote(request_id, safe='')}")
        return None if response is None else self._pin_status(response)

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        try:
            response = self.session.request(
                method, self.base_url + path, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise PinError(f"pinning service unreachable: {exc}", transient=True) from None
        if response.status_code == 404 and method == "GET":
            return None
        if response.status_code >= 400:
            raise PinError(f"pinning service: {_reason(response)}", transient=_transient(response))
        return response

    def _pin_status(self, response: requests.Response | None) -> PinResult:
        try:
            body = response.json()
            request_id, status = str(body["requestid"]), body["status"]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise PinError("pinning service: not a PinStatus answer", transient=True) from None
        if status not in PIN_STATUSES or not request_id:
            raise PinError(f"pinning service: unknown pin status {status!r}", transient=True)
        info = body.get("info") if isinstance(body.get("info"), dict) else {}
        return PinResult(request_id, status, json.dumps(info)[:400] if info else "")

    def close(self) -> None:
        self.session.close()


class KuboClient:
    def __init__(self, api_url: str, *, timeout: float) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout

    def add(self, *, content: IO[bytes]) -> str:
        """Add and pin the bytes; returns the CID Kubo computed."""
        boundary = secrets.token_hex(16)
        try:
            response = requests.post(
                f"{self.api_url}/api/v0/add",
                params=KUBO_ADD_PARAMS,
                data=_multipart(content, boundary),
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise PinError(f"Kubo unreachable: {exc}", transient=True) from None
        if response.status_code >= 400:
            # Kubo answers 500 for most failures, including ones a retry will not fix; its
            # message says which, so 500s are retried a bounded number of times like any 5xx.
            raise PinError(f"Kubo: {_reason(response)}", transient=_transient(response))
        return _added_cid(response.text)


def _multipart(content: IO[bytes], boundary: str) -> Iterator[bytes]:
    """The body of a one-file multipart upload, streamed chunk by chunk (sent chunked)."""
    content.seek(0)
    yield (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="file"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    while chunk := content.read(CHUNK_SIZE):
        yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()


def _added_cid(text: str) -> str:
    """`add` answers one JSON object per line; the last names the file's root."""
    try:
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        return str(lines[-1]["Hash"])
    except (ValueError, IndexError, KeyError, TypeError):
        raise PinError(f"Kubo: unreadable add answer {text[:200]!r}", transient=True) from None
