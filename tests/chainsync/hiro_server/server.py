"""The fake API's HTTP server: a real server on 127.0.0.1 that records every request and
answers with injected faults or the routes (routes.py)."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.chainsync.hiro_server.chain import Chain
from tests.chainsync.hiro_server.escrow import Escrow
from tests.chainsync.hiro_server.routes import (
    RecordedRequest,
    RouteHandlers,
    _BadRequest,
    _HttpError,
)


@dataclass(frozen=True)
class Fault:
    """What a route answers instead of the real thing. Build with the class methods."""

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    hang: float = 0.0
    drop: bool = False

    @classmethod
    def throttle(cls, retry_after: int | str | None = 1) -> Fault:
        headers = (("retry-after", str(retry_after)),) if retry_after is not None else ()
        body = {"error": "Too Many Requests", "message": "Rate limit exceeded"}
        return cls(429, body, headers=headers)

    @classmethod
    def error(cls, status: int = 500) -> Fault:
        return cls(status, {"error": "Internal Server Error", "message": "injected fault"})

    @classmethod
    def slow(cls, seconds: float = 2.0) -> Fault:
        """Answer normally after `seconds` (or at server stop): longer than a client timeout."""
        return cls(hang=seconds)

    @classmethod
    def malformed(cls) -> Fault:
        return cls(raw=b'{"limit": 20, "offset": 0, "results": [{"event_index": ')

    @classmethod
    def disconnect(cls) -> Fault:
        return cls(drop=True)

    @classmethod
    def respond(cls, status: int, body: Any) -> Fault:
        return cls(status, body)

    @classmethod
    def route_missing(cls) -> Fault:
        return cls(404, {"error": "Not Found", "message": "Route not found", "statusCode": 404})

    @classmethod
    def gone(cls) -> Fault:
        message = "This endpoint has been disabled. Use the v2/v3 endpoints instead."
        return cls(410, {"error": "Gone", "message": message})


_ROUTES: list[tuple[str, str, re.Pattern[str]]] = [
    (name, method, re.compile(pattern))
    for name, method, pattern in [
        ("status", "GET", r"/extended/?"),
        ("info", "GET", r"/v2/info"),
        ("contract_logs", "GET", r"/extended/v2/smart-contracts/(?P<contract_id>[^/]+)/logs"),
        ("contract_events", "GET", r"/extended/v1/contract/(?P<contract_id>[^/]+)/events"),
        ("tx_multiple", "GET", r"/extended/v1/tx/multiple"),
        ("tx_v1", "GET", r"/extended/v1/tx/(?P<tx_id>[^/]+)"),
        ("tx_v3", "GET", r"/extended/v3/transactions/(?P<tx_id>[^/]+)"),
        (
            "principal_transactions",
            "GET",
            r"/extended/v3/principals/(?P<principal>[^/]+)/transactions",
        ),
        ("block", "GET", r"/extended/v2/blocks/(?P<block>[^/]+)"),
        (
            "call_read",
            "POST",
            r"/v2/contracts/call-read/(?P<address>[^/]+)/(?P<contract>[^/]+)/(?P<function>[^/]+)",
        ),
    ]
]
DEPRECATED_ROUTES = {"contract_events", "tx_v1"}
ROUTE_NAMES = frozenset(name for name, _, _ in _ROUTES)


class HiroServer(RouteHandlers):
    """The fake API: `url`, the `chain` it serves, `requests` it received, faults to inject.

    Start/stop with `start()`/`stop()` or as a context manager (the `hiro` fixture does it).
    """

    def __init__(self, chain: Chain | None = None, *, rate_limit: int = 50) -> None:
        self.chain = chain or Chain()
        self.escrow = Escrow(self.chain)
        self.rate_limit = rate_limit
        self.requests: list[RecordedRequest] = []
        self.before_request: list[Callable[[RecordedRequest], None]] = []
        self._faults: dict[str, deque[list[Any]]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def start(self) -> HiroServer:
        handler = type("Handler", (_Handler,), {"hiro": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> HiroServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # --- driving ---

    def inject(self, route: str, fault: Fault, *, times: int | None = 1) -> None:
        """The next `times` requests to `route` (None = all from now on) get `fault`."""
        if route not in ROUTE_NAMES:
            raise ValueError(f"unknown route {route!r}; one of {sorted(ROUTE_NAMES)}")
        with self._lock:
            self._faults.setdefault(route, deque()).append([fault, times])

    def disable(self, route: str, *, status: int = 404) -> None:
        """From now on `route` answers like a missing route (404) or a disabled one (410)."""
        fault = Fault.route_missing() if status == 404 else Fault.gone()
        self.inject(route, fault, times=None)

    def hide_from_listing(self, tx_id: str) -> None:
        """From now on the principals' transaction listings leave `tx_id` out (the API has no
        such fault on record: it stands for a listing that misses a call)."""
        self.chain.unlisted.add(tx_id)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def requests_to(self, route: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.route == route]

    def route_counts(self) -> Counter[str]:
        with self._lock:
            return Counter(r.route or r.path for r in self.requests)

    # --- serving (called on handler threads) ---

    def _serve(self, handler: _Handler) -> None:
        request, parts = self._record(handler)
        for hook in list(self.before_request):
            hook(request)
        fault = self._next_fault(request.route)
        if fault is not None and fault.hang:
            self._stopping.wait(fault.hang)
        if fault is not None and fault.drop:
            handler.close_connection = True
            return
        if fault is not None and not fault.hang:
            self._send_fault(handler, fault)
            return
        self._answer(handler, request, parts)

    def _record(self, handler: _Handler) -> tuple[RecordedRequest, dict[str, str]]:
        split = urlsplit(handler.path)
        route, parts = _match(handler.command, split.path)
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        request = RecordedRequest(
            handler.command,
            split.path,
            route,
            parse_qs(split.query, keep_blank_values=True),
            {k.lower(): v for k, v in handler.headers.items()},
            body,
        )
        with self._lock:
            self.requests.append(request)
        return request, parts

    def _next_fault(self, route: str | None) -> Fault | None:
        with self._lock:
            queue = self._faults.get(route or "")
            if not queue:
                return None
            entry = queue[0]
            if entry[1] is not None:
                entry[1] -= 1
                if entry[1] <= 0:
                    queue.popleft()
            return entry[0]

    def _answer(self, handler: _Handler, request: RecordedRequest, parts: dict[str, str]) -> None:
        if request.route is None:
            message = f"Route {request.method}:{request.path} not found"
            self._send(handler, 404, {"error": "Not Found", "message": message, "statusCode": 404})
            return
        try:
            with self.chain.lock:
                status, body, headers = getattr(self, "_" + request.route)(request, parts)
        except _BadRequest as exc:
            status, body, headers = 400, {"error": "Bad Request", "message": str(exc)}, {}
        except _HttpError as exc:
            status, body, headers = exc.status, exc.body, {}
        if request.route in DEPRECATED_ROUTES:
            headers = {"warning": '299 - "Deprecated: use the v2/v3 endpoints"'} | headers
        self._send(handler, status, body, headers)

    def _send_fault(self, handler: _Handler, fault: Fault) -> None:
        raw = fault.raw if fault.raw is not None else json.dumps(fault.body).encode()
        self._send_raw(handler, fault.status, raw, dict(fault.headers))

    def _send(
        self, handler: _Handler, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        self._send_raw(handler, status, json.dumps(body).encode(), headers or {})

    def _send_raw(
        self, handler: _Handler, status: int, raw: bytes, headers: dict[str, str]
    ) -> None:
        try:
            handler.send_response(status)
            base = {
                "content-type": "application/json; charset=utf-8",
                "content-length": str(len(raw)),
                "ratelimit-limit": str(self.rate_limit),
                "x-ratelimit-cost-stacks": "1",
            }
            for name, value in (base | headers).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(raw)
        except OSError:
            pass  # the client gave up (a timeout test)


class _Handler(BaseHTTPRequestHandler):
    hiro: HiroServer
    # Keep-alive, as the real API (HTTP/1.1): a client reuses its connection (every answer
    # carries a content-length).
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

    def do_GET(self) -> None:
        self.hiro._serve(self)

    def do_POST(self) -> None:
        self.hiro._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _match(method: str, path: str) -> tuple[str | None, dict[str, str]]:
    for name, route_method, pattern in _ROUTES:
        found = pattern.fullmatch(path)
        if found and method == route_method:
            return name, {k: unquote(v) for k, v in found.groupdict().items()}
    return None, {}
