"""Requests without a server: through Django's WSGI or ASGI handler in this process, timed in
interleaved batches, and profiled with cProfile. Django must be set up by the caller."""

from __future__ import annotations

import asyncio
import cProfile
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent


def wsgi_caller(path: str) -> Callable[[], None]:
    """One request through Django's sync handler, as a WSGI server makes it (so the database
    connection is closed at the end of each request, as under daphne)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    environ = RequestFactory(HTTP_HOST=HOST).get(path).environ
    handler = WSGIHandler()

    def call() -> None:
        handler(dict(environ), lambda status, headers: None).close()

    return call


async def asgi_call(path: str, app: Any = None) -> None:
    """One request through the project's ASGI application (or `app`), as daphne makes it,
    minus the socket."""
    from stxworx.asgi import application

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", HOST.encode())], "client": (HOST, 1),
        "server": (HOST, 80),
    }  # fmt: skip
    done = asyncio.Event()
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    await (app or application)(scope, receive, send)


def wsgi_batch(path: str) -> Callable[[int], None]:
    call = wsgi_caller(path)

    def run(n: int) -> None:
        for _ in range(n):
            call()

    return run


def asgi_batch(
    path: str, loop: asyncio.AbstractEventLoop, app: Any = None
) -> Callable[[int], None]:
    async def run(n: int) -> None:
        for _ in range(n):
            await asgi_call(path, app)

    return lambda n: loop.run_until_complete(run(n))


def ms_per_request(batches: dict[Any, Callable[[int], None]], count: int) -> dict[Any, float]:
    """Median ms per request over 10 batches of `count // 10`, the keys' batches interleaved so
    that a burst of load from elsewhere on the machine spoils one batch, not one key."""
    samples: dict[Any, list[float]] = {key: [] for key in batches}
    for batch in batches.values():
        batch(5)  # warm-up
    for _ in range(10):
        for key, batch in batches.items():
            start = time.perf_counter()
            batch(count // 10)
            samples[key].append((time.perf_counter() - start) * 1e3 / (count // 10))
    return {key: statistics.median(values) for key, values in samples.items()}


def profile(path: str, count: int) -> dict[Any, Any]:
    """cProfile of `count` requests through the WSGI handler, as pstats' raw dict."""
    import pstats

    call = wsgi_caller(path)
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [call() for _ in range(count)])
    return pstats.Stats(profiler).stats  # type: ignore[attr-defined]


# A function's own time goes to the first layer whose key is in its file name; built-ins and
# the rest of the standard library (getattr, deepcopy, ...) go to the layers of their callers.
LAYERS = {
    "DRF": "/rest_framework/",
    "Django ORM (Python)": "/django/db/",
    "Django request/response, middleware, URLs": "/django/",
    "json encoding": "/json/",
    "other packages (whitenoise, corsheaders, asgiref)": "/site-packages/",
    "views and app code": f"{ROOT}/",
}
SQLITE = "SQLite (C: execute, fetch, connect)"


def layers(stats: dict[Any, Any]) -> dict[str, float]:
    """Share of the total own time per layer (LAYERS, SQLITE, "other")."""
    memo: dict[Any, dict[str, float]] = {}

    def mix(key: Any, seen: frozenset[Any]) -> dict[str, float]:
        filename, _line, func = key
        if filename == "~" and "sqlite3" in func:
            return {SQLITE: 1.0}
        direct = next((name for name, part in LAYERS.items() if part in filename), None)
        if direct or key in seen or not stats[key][4]:
            return {direct or "other": 1.0}
        if key not in memo:
            callers = stats[key][4]  # caller -> (calls, calls, own time, cumulative time)
            weight = sum(edge[2] for edge in callers.values()) or 1.0
            result: dict[str, float] = {}
            for caller, edge in callers.items():
                for layer, share in mix(caller, seen | {key}).items():
                    result[layer] = result.get(layer, 0.0) + share * edge[2] / weight
            memo[key] = result
        return memo[key]

    total = sum(row[2] for row in stats.values())
    shares: dict[str, float] = {}
    for key, row in stats.items():
        for layer, share in mix(key, frozenset()).items():
            shares[layer] = shares.get(layer, 0.0) + share * row[2] / total
    return shares


def cumulative(stats: dict[Any, Any], ending: str, func: str) -> float:
    """Share of the total time spent in (and under) `func` of a file whose name ends so."""
    total = sum(row[2] for row in stats.values())
    hits = [row[3] for (f, _, fn), row in stats.items() if f.endswith(ending) and fn == func]
    return max(hits, default=0.0) / total
