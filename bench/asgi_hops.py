"""Why the ASGI path costs milliseconds: thread switches per request under Django's ASGI handler.

    .venv/bin/python bench/asgi_hops.py

Counts, per request, asgiref's sync->async and async->sync switches and the threads started,
with the middleware as configured and with one sync-only middleware added last (which makes
Django run the whole chain in one thread). In-process, one request at a time, on the bench DB.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repo root, not bench/
from bench.inprocess import asgi_batch, ms_per_request, wsgi_batch  # noqa: E402
from bench.projects_list import API, FLOOR, STACK, database_prepare  # noqa: E402

COUNTS: Counter[str] = Counter()


class SyncOnly:
    """A pass-through middleware that cannot run async."""

    sync_capable, async_capable = True, False

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        return self.get_response(request)


def counters_install() -> None:
    from asgiref.sync import AsyncToSync, SyncToAsync

    s2a, a2s, start = SyncToAsync.__call__, AsyncToSync.__call__, threading.Thread.start

    async def s2a_counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        COUNTS["sync_to_async"] += 1
        return await s2a(self, *args, **kwargs)

    def a2s_counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        COUNTS["async_to_sync"] += 1
        return a2s(self, *args, **kwargs)

    def start_counted(self: threading.Thread) -> None:
        COUNTS["threads"] += 1
        start(self)

    SyncToAsync.__call__ = s2a_counted  # type: ignore[method-assign]
    AsyncToSync.__call__ = a2s_counted  # type: ignore[method-assign]
    threading.Thread.start = start_counted  # type: ignore[method-assign]


def table(count: int) -> list[str]:
    from django.conf import settings
    from django.core.handlers.asgi import ASGIHandler
    from django.test.utils import override_settings

    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, "bench.asgi_hops.SyncOnly"]):
        sync_chain = ASGIHandler()  # the middleware chain is built here
    apps = {"as configured": ASGIHandler(), "+ sync-only middleware last": sync_chain}
    loop = asyncio.new_event_loop()
    keys = [(label, path) for label in apps for path in (STACK, FLOOR, API)]
    times = ms_per_request({(lb, p): asgi_batch(p, loop, apps[lb]) for lb, p in keys}, count)
    lines = [
        "| ASGI middleware chain | URL | ms/request | sync_to_async | async_to_sync | threads |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for label, path in keys:
        COUNTS.clear()
        asgi_batch(path, loop, apps[label])(10)
        hops = " | ".join(
            f"{COUNTS[k] / 10:g}" for k in ("sync_to_async", "async_to_sync", "threads")
        )
        lines.append(f"| {label} | `{path}` | {times[label, path]:.2f} | {hops} |")
    loop.close()
    return lines


def main() -> None:
    if not Path(os.environ["BENCH_SQLITE_PATH"]).exists():
        database_prepare()
    import django

    django.setup()
    wsgi = ms_per_request({path: wsgi_batch(path) for path in (STACK, FLOOR, API)}, 200)
    counters_install()
    print("\n".join(table(200)))
    print("\nSame requests through the sync WSGI handler, ms/request: ", end="")
    print(", ".join(f"`{path}` {ms:.2f}" for path, ms in wsgi.items()))


if __name__ == "__main__":
    main()
