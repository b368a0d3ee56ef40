"""Fake IPFS services on loopback, speaking the real wire shapes:

- the IPFS Pinning Service API (https://ipfs.github.io/pinning-services-api-spec/):
  `POST /pins` (Pin -> 202 PinStatus), `GET /pins/{requestid}` (PinStatus, or 404), bearer
  token (401 otherwise), 400 for a body that is not a Pin, errors as {"error": {reason, details}};
- Kubo's RPC `POST /api/v0/add` (multipart, possibly chunked), answering {"Name","Hash","Size"},
  errors as {"Message","Code","Type"}.

    with IpfsServer(token="t") as ipfs:
        ipfs.pins_settle_after = 2           # a new pin reads "queued" twice, then "pinned"
        ipfs.fail("POST /pins", 503)         # the next POST /pins answers 503
        ipfs.fail("GET /pins", 0)            # ... or the connection drops without an answer
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from multiformats import CID

from files.unixfs import UnixfsHasher

KUBO_V1_OPTIONS = {"cid-version": "1", "raw-leaves": "true", "chunker": "size-262144"}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    chunked: bool


@dataclass
class Pin:
    request_id: str
    cid: str
    name: str
    origins: list[str]
    meta: dict[str, str]
    created: str
    polls: int = 0
    status: str = "queued"
    info: dict[str, str] = field(default_factory=dict)


class IpfsServer:
    def __init__(self, *, token: str = "test-token") -> None:
        self.token = token
        self.pins: dict[str, Pin] = {}
        self.requests: list[Recorded] = []
        self.added: dict[str, bytes] = {}  # Kubo: CID -> bytes received
        self.pins_settle_after: int | None = 0  # GETs that still read "queued"; None: never
        self.settle_as = "pinned"
        self._faults: dict[str, deque[int]] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # --- lifecycle ---

    def __enter__(self) -> IpfsServer:
        handler = type("Handler", (_Handler,), {"server_state": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # --- driving ---

    def fail(self, route: str, status: int, *, times: int = 1) -> None:
        """The next `times` requests to `route` ("POST /pins", "GET /pins", "POST /api/v0/add")
        answer `status` with the API's error body; 0 drops the connection unanswered."""
        with self._lock:
            self._faults.setdefault(route, deque()).extend([status] * times)

    def requests_to(self, route: str) -> list[Recorded]:
        method, prefix = route.split(" ", 1)
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    # --- serving ---

    def serve(self, h: _Handler) -> None:
        split = urlsplit(h.path)
        chunked = h.headers.get("transfer-encoding", "").lower() == "chunked"
        body = _read_chunked(h) if chunked else h.rfile.read(int(h.headers["content-length"] or 0))
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        rec = Recorded(h.command, split.path, query, dict(h.headers.items()), body, chunked)
        with self._lock:
            self.requests.append(rec)
        route = self._route(rec)
        if route is None:
            return h.reply(404, {"error": {"reason": "NOT_FOUND", "details": "no such route"}})
        fault = self._fault(route)
        if fault == 0:
            h.close_connection = True
            return None
        if fault is not None:
            return h.reply(fault, _error_body(route, fault))
        return getattr(self, route.replace(" ", "_").replace("/", "_").lower())(h, rec)

    def _route(self, rec: Recorded) -> str | None:
        if rec.method == "POST" and rec.path == "/pins":
            return "POST /pins"
        if rec.method == "GET" and rec.path.startswith("/pins/"):
            return "GET /pins"
        if rec.method == "POST" and rec.path == "/api/v0/add":
            return "POST /api/v0/add"
        return None

    def _fault(self, route: str) -> int | None:
        with self._lock:
            queue = self._faults.get(route)
            return queue.popleft() if queue else None

    def _authorized(self, h: _Handler) -> bool:
        if h.headers.get("authorization") == f"Bearer {self.token}":
            return True
        h.reply(401, {"error": {"reason": "UNAUTHORIZED", "details": "bad access token"}})
        return False

    def post__pins(self, h: _Handler, rec: Recorded) -> None:
        if not self._authorized(h):
            return
        try:
            pin = json.loads(rec.body)
            CID.decode(pin["cid"])
            origins, meta = pin.get("origins", []), pin.get("meta", {})
            assert isinstance(origins, list) and isinstance(meta, dict)
        except Exception as exc:
            return h.reply(400, {"error": {"reason": "BAD_REQUEST", "details": repr(exc)}})
        created = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        entry = Pin(uuid.uuid4().hex, pin["cid"], pin.get("name", ""), origins, meta, created)
        if self.pins_settle_after == 0:
            entry.status = self.settle_as
        with self._lock:
            self.pins[entry.request_id] = entry
        return h.reply(202, _pin_status(entry))

    def get__pins(self, h: _Handler, rec: Recorded) -> None:
        if not self._authorized(h):
            return None
        entry = self.pins.get(rec.path.removeprefix("/pins/"))
        if entry is None:
            return h.reply(404, {"error": {"reason": "NOT_FOUND", "details": "no such pin"}})
        entry.polls += 1
        if self.pins_settle_after is not None and entry.polls >= self.pins_settle_after:
            entry.status = self.settle_as
            if entry.status == "failed":
                entry.info = {"status_details": "could not find the content in the network"}
        return h.reply(200, _pin_status(entry))

    def post__api_v0_add(self, h: _Handler, rec: Recorded) -> None:
        data = _multipart_file(rec)
        if data is None:
            return h.reply(400, {"Message": "file argument 'path' is required", "Code": 1})
        hasher = UnixfsHasher()
        hasher.update(data)
        cid = hasher.cid()
        if any(rec.query.get(k) != v for k, v in KUBO_V1_OPTIONS.items()):
            cid = "bafybeidifferentoptionsgiveadifferentcid0000000000000000000"  # not ours
        self.added[cid] = data
        line = {"Name": "file", "Hash": cid, "Size": str(len(data))}
        return h.reply(200, line)


def _pin_status(pin: Pin) -> dict[str, Any]:
    return {
        "requestid": pin.request_id,
        "status": pin.status,
        "created": pin.created,
        "pin": {"cid": pin.cid, "name": pin.name, "origins": pin.origins, "meta": pin.meta},
        "delegates": ["/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWFakeDelegate"],
        "info": pin.info,
    }


def _error_body(route: str, status: int) -> dict[str, Any]:
    if route.endswith("/add"):
        return {"Message": f"injected failure {status}", "Code": 0, "Type": "error"}
    reasons = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 404: "NOT_FOUND", 409: "INSUFFICIENT_FUNDS"}
    reason = reasons.get(status, "INTERNAL_SERVER_ERROR" if status >= 500 else "RATE_LIMIT")
    return {"error": {"reason": reason, "details": f"injected failure {status}"}}


def _read_chunked(h: BaseHTTPRequestHandler) -> bytes:
    out = bytearray()
    while True:
        size = int(h.rfile.readline().split(b";")[0].strip(), 16)
        if size == 0:
            h.rfile.readline()
            return bytes(out)
        out += h.rfile.read(size)
        h.rfile.readline()


def _multipart_file(rec: Recorded) -> bytes | None:
    content_type = rec.headers.get("Content-Type") or rec.headers.get("content-type") or ""
    if "boundary=" not in content_type:
        return None
    boundary = content_type.split("boundary=", 1)[1].encode()
    for part in rec.body.split(b"--" + boundary):
        head, sep, rest = part.partition(b"\r\n\r\n")
        if sep and b'name="file"' in head:
            return rest.removesuffix(b"\r\n")
    return None


class _Handler(BaseHTTPRequestHandler):
    server_state: IpfsServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server_state.serve(self)

    do_POST = do_GET

    def reply(self, status: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass
