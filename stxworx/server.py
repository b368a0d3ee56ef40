"""The web process's ASGI application (`uvicorn stxworx.server:application`, started by
`manage.py serve`): WebSocket through Channels, HTTP through Django's sync (WSGI) handler.

Under Django's ASGI handler every request starts threads and every middleware hook crosses
`sync_to_async` (bench/README.md); connections opened in those threads are never reused. Here an
HTTP request makes one hop to a fixed pool of `WEB_THREADS` daemon threads that live as long as
the process, so each thread keeps its database connection (or takes one from the pool) and the
number of connections is bounded per process whatever the number of clients.

The body is never buffered whole: a small one (a JSON request) is read on the event loop before
the hop, so a slow client does not hold a thread; a larger one (an upload) is streamed to Django
from the thread, a read at a time, with the server's flow control holding back the socket. A
request Django answers without reading its body (401 anonymous, 413 too large) is answered at
once and the connection closed after the response. A body without a Content-Length (chunked) is
a 411: Django's WSGI request cannot see one.
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stxworx.settings")


WEB_APPLICATION_NAME = "stxworx-web"


def _web_databases() -> None:
    """Before any connection opens: on PostgreSQL the threads share Django's psycopg pool of
    DB_POOL_MAX_SIZE connections (a connection goes back to it when its request ends); on
    SQLite each thread keeps its connection open between requests."""
    default = settings.DATABASES["default"]
    if settings.IS_POSTGRES and settings.DB_POOL_MAX_SIZE:
        pool = {"min_size": 1, "max_size": settings.DB_POOL_MAX_SIZE, "timeout": 10}
        default["CONN_MAX_AGE"] = 0  # Django's pool takes the place of persistent connections
        # named, so an operator sees in pg_stat_activity which connections are the web's
        options = {"pool": pool, "application_name": WEB_APPLICATION_NAME}
        default["OPTIONS"] = {**default.get("OPTIONS", {}), **options}
    elif not settings.IS_POSTGRES:
        default["CONN_MAX_AGE"] = 600


_web_databases()
django_wsgi = get_wsgi_application()  # initialises Django before Channels' imports

from channels.routing import URLRouter  # noqa: E402
from django.db import connections  # noqa: E402
from django.http.response import HttpResponseBase  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from notifications.routing import websocket_urlpatterns  # noqa: E402
from stxworx.errors import error_body  # noqa: E402

SMALL_BODY = 64 * 1024  # read on the loop before the hop; larger bodies stream from the thread
websocket_app = URLRouter(websocket_urlpatterns)


class Threads:
    """A fixed pool of daemon threads (not concurrent.futures: its threads are joined at exit, so
    a request stuck in one would hold up the process's exit on SIGTERM)."""

    def __init__(self, size: int) -> None:
        self.jobs: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future, Any]] = (
            queue.SimpleQueue()
        )
        for n in range(size):
            threading.Thread(target=self._work, name=f"web-{n}", daemon=True).start()

    def _work(self) -> None:
        while True:
            job, future, loop = self.jobs.get()
            try:
                result = job()
            except BaseException as exc:  # handed to the awaiting request
                loop.call_soon_threadsafe(_settle, future, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, future, result, None)

    def run(self, job: Callable[[], Any]) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.jobs.put((job, future, loop))
        return future


def _settle(future: asyncio.Future, result: Any, exc: BaseException | None) -> None:
    if future.cancelled():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


class BodyStream(io.RawIOBase):
    """`wsgi.input` for a large body: each read on the worker thread waits for the next chunk
    the event loop receives. Django reads at most CONTENT_LENGTH bytes (LimitedStream)."""

    def __init__(self, receive: Callable, loop: asyncio.AbstractEventLoop) -> None:
        self.receive, self.loop = receive, loop
        self.buffer = bytearray()
        self.more = True

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        message = asyncio.run_coroutine_threadsafe(self.receive(), self.loop).result()
        if message["type"] == "http.disconnect":
            self.more = False
            raise OSError("the client disconnected before sending its whole body")
        self.buffer += message.get("body", b"")
        self.more = message.get("more_body", False)

    def readinto(self, target: Any) -> int:
        while not self.buffer and self.more:
            self._fill()
        n = min(len(target), len(self.buffer))
        target[:n] = self.buffer[:n]
        del self.buffer[:n]
        return n


def wsgi_environ(scope: dict[str, Any], body: Any) -> dict[str, Any]:
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] or 80),
        "REMOTE_ADDR": client[0],
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = f"HTTP_{name}"
        environ[name] = f"{environ[name]},{value}" if name in environ else value
    return environ


class Exchange:
    """One HTTP request: run through Django on a worker thread, the answer sent on the loop."""

    def __init__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        self.scope, self.receive, self.send = scope, receive, send
        self.loop = asyncio.get_running_loop()
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.disconnected = threading.Event()

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info=None) -> None:
        self.status = int(status.split(" ", 1)[0])
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]

    async def serve(self, threads: Threads) -> None:
        length = _content_length(self.scope)
        if length is None:
            return await self.refuse_unsized()
        stream = BodyStream(self.receive, self.loop) if length > SMALL_BODY else None
        body = stream or io.BytesIO(await self.read_small())
        reply = await threads.run(lambda: self.run_django(body))
        if reply is None:
            return  # streamed from the thread
        if stream is not None and stream.more:
            self.headers.append((b"connection", b"close"))  # the rest of the body goes unread
        sized = any(name == b"content-length" for name, _ in self.headers)
        if self.status not in (204, 304) and not sized:
            self.headers.append((b"content-length", str(len(reply)).encode()))
        start = {"type": "http.response.start", "status": self.status, "headers": self.headers}
        await self.send(start)
        await self.send({"type": "http.response.body", "body": reply})

    async def read_small(self) -> bytes:
        chunks, more = [], True
        while more:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                break
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def refuse_unsized(self) -> None:
        content = json.dumps(
            error_body("length_required", "A request body needs a Content-Length header.")
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode()),
            (b"connection", b"close"),
        ]
        await self.send({"type": "http.response.start", "status": 411, "headers": headers})
        await self.send({"type": "http.response.body", "body": content})

    def run_django(self, body: Any) -> bytes | None:
        """On the worker thread. A plain response comes back whole (one hop back to the loop);
        a streaming one (a file download) is sent from here, a chunk at a time, with the
        socket's back-pressure, and without holding a database connection meanwhile."""
        result: Iterable[bytes] = django_wsgi(wsgi_environ(self.scope, body), self.start_response)
        try:
            if isinstance(result, HttpResponseBase) and not result.streaming:
                return result.content
            connections.close_all()
            self.stream(result)
            return None
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()  # Django's request_finished: its connections are released here

    def stream(self, chunks: Iterable[bytes]) -> None:
        def call(message: dict[str, Any]) -> None:
            asyncio.run_coroutine_threadsafe(self.send(message), self.loop).result()

        asyncio.run_coroutine_threadsafe(self.watch_disconnect(), self.loop)
        call({"type": "http.response.start", "status": self.status, "headers": self.headers})
        for chunk in chunks:
            if self.disconnected.is_set():
                return  # the client went away: stop reading the file
            if chunk:
                call({"type": "http.response.body", "body": chunk, "more_body": True})
        call({"type": "http.response.body", "body": b""})

    async def watch_disconnect(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass
        self.disconnected.set()


def _content_length(scope: dict[str, Any]) -> int | None:
    """The declared body size: 0 without a body; None for a body of unknown size (chunked,
    which takes precedence over a Content-Length)."""
    length = 0
    for name, value in scope.get("headers", []):
        if name == b"transfer-encoding":
            return None
        if name == b"content-length" and value.isdigit():
            length = int(value)
    return length


class Application:
    """HTTP to Django's sync handler on the worker threads, WebSocket to Channels, and the
    lifespan protocol (the threads start with the server)."""

    def __init__(self, threads: int) -> None:
        self.size = threads
        self.threads: Threads | None = None

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        kind = scope["type"]
        if kind == "http":
            if self.threads is None:
                self.threads = Threads(self.size)
            await Exchange(scope, receive, send).serve(self.threads)
        elif kind == "websocket":
            await websocket_app(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)

    async def lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.threads = self.threads or Threads(self.size)
                startup_objects_frozen()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def startup_objects_frozen() -> None:
    """Import every view (Django imports the URLconf at the first request), then move what
    start-up made (~140,000 objects: modules, classes, the URLconf, the schema's fields) out of
    the cyclic collector's sight. They live as long as the process, and each full collection
    walked them all: a pause of ~70 ms that every request queued in the process waited out
    (bench/README.md, "Serving the API"). Collections now walk only what requests make."""
    get_resolver().url_patterns  # noqa: B018 (imports the URLconf and its views)
    gc.collect()
    gc.freeze()


application = Application(settings.WEB_THREADS)
