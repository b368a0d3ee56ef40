"""Benchmark `GET /api/projects` against a hand-written plain-Django floor, under one daphne.

    .venv/bin/python bench/projects_list.py [--write] [--seconds 10] [--rounds 3]

Migrates and seeds a throwaway SQLite file, checks that the two views run the same SQL and return
the same JSON, starts daphne on a free loopback port, warms up, then measures the URLs in
alternating rounds (wrk if installed, else a Python keep-alive client). Afterwards, with daphne
stopped, it times the views in-process through Django's WSGI and ASGI handlers and profiles the
API with cProfile. Prints markdown; `--write` also puts it in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # run as a script: the repo root, not bench/, goes first on the path
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ.setdefault("BENCH_SQLITE_PATH", "/tmp/stxworx-bench.sqlite3")
for _name in ("DATABASE_URL", "REDIS_URL"):  # the bench always runs the embedded default
    os.environ.pop(_name, None)

from bench import harness, inprocess  # noqa: E402
from bench.harness import HOST  # noqa: E402
from bench.wrk import Run, wrk_run  # noqa: E402

API, FLOOR, STACK = "/api/projects", "/bench/floor/projects", "/healthz"
MARKERS = ("<!-- results:start -->", "<!-- results:end -->")
# --- set-up ----------------------------------------------------------------------------------


def database_prepare() -> None:
    harness.database_fresh()
    from bench.seed import seed

    seed()


def same_sql_check() -> None:
    """Abort unless both views send the same SQL."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    sql = {}
    for path in (API, FLOOR):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        sql[path] = [q["sql"] for q in ctx.captured_queries]
    if sql[API] != sql[FLOOR]:
        sys.exit(f"The views run different SQL:\n{json.dumps(sql, indent=1)}")


def same_body_check(port: int) -> None:
    """Abort unless both URLs answer 200 with the same JSON; warn if only the bytes differ."""
    bodies = {}
    for path in (API, FLOOR):
        with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=10) as response:
            bodies[path] = response.read()
    if json.loads(bodies[API]) != json.loads(bodies[FLOOR]):
        sys.exit(f"Bodies differ.\napi:   {bodies[API][:600]!r}\nfloor: {bodies[FLOOR][:600]!r}")
    if bodies[API] != bodies[FLOOR]:
        print("warning: same JSON values, different bytes", file=sys.stderr)


# --- load generators -------------------------------------------------------------------------


async def _response_read(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response off a keep-alive connection; return its status."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
    headers = dict(line.split(":", 1) for line in head.split("\r\n")[1:] if ":" in line)
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    else:  # chunked
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    return int(head[9:12])


async def _client(port: int, path: str, deadline: float, latencies: list[float]) -> int:
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()
    errors = 0
    while time.perf_counter() < deadline:
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
            while (start := time.perf_counter()) < deadline:
                writer.write(request)
                status = await asyncio.wait_for(_response_read(reader), timeout=10)
                latencies.append(time.perf_counter() - start)
                errors += status != 200
            writer.close()
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            errors += 1
    return errors


def python_run(path: str, port: int, seconds: int, connections: int) -> Run:
    async def main() -> tuple[list[float], int, float]:
        latencies: list[float] = []
        start = time.perf_counter()
        clients = [_client(port, path, start + seconds, latencies) for _ in range(connections)]
        errors = sum(await asyncio.gather(*clients))
        return latencies, errors, time.perf_counter() - start

    latencies, errors, elapsed = asyncio.run(main())
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Run(path, len(latencies), elapsed, errors, cuts[49] * 1e3, cuts[98] * 1e3)


# --- in-process: the same views without a server, and where their time goes ------------------

STAGES = [  # (label, file name ending, function): cumulative time in the API request
    ("queries and model instances (count, page, prefetch)", "pagination.py", "paginate_queryset"),
    ("serializing (`ProjectOutput(page, many=True).data`)", "serializers.py", "data"),
    ("- of which building the serializers' fields", "serializers.py", "fields"),
    ("rendering JSON", "renderers.py", "render"),
    ("validating filters (`ProjectFilter`)", "stxworx/apis.py", "validated"),
]


def in_process_report(count: int) -> list[str]:
    paths = (API, FLOOR, STACK)
    loop = asyncio.new_event_loop()
    ms = inprocess.ms_per_request(
        {("WSGI", p): inprocess.wsgi_batch(p) for p in paths}
        | {("ASGI", p): inprocess.asgi_batch(p, loop) for p in paths},
        count,
    )
    loop.close()
    lines = [
        "In-process, one request at a time, no server or socket, daphne stopped: median ms per "
        f"request over 10 interleaved batches ({count} requests per URL and handler):",
        "",
        "| Django handler | `/api/projects` | `/bench/floor/projects` | floor / API | `/healthz` |",
        "|---|---:|---:|---:|---:|",
    ]
    for handler in ("WSGI", "ASGI"):
        api, floor, stack = (ms[handler, path] for path in paths)
        lines.append(f"| {handler} | {api:.2f} | {floor:.2f} | {floor / api:.0%} | {stack:.2f} |")
    stats = {path: inprocess.profile(path, count) for path in (API, FLOOR)}
    shares = {path: inprocess.layers(s) for path, s in stats.items()}
    lines += ["", "Own time by layer (cProfile, WSGI handler):", ""]
    lines += ["| layer | API | floor |", "|---|---:|---:|"]
    for layer in [*inprocess.LAYERS, inprocess.SQLITE, "other"]:
        lines.append(
            f"| {layer} | {shares[API].get(layer, 0):.0%} | {shares[FLOOR].get(layer, 0):.0%} |"
        )
    outside = 1.0 - inprocess.cumulative(stats[API], "rest_framework/views.py", "dispatch")
    lines += ["", "Stages of the API request (cumulative, cProfile, WSGI handler):", ""]
    lines += [
        f"- {inprocess.cumulative(stats[API], ending, func):.0%} {label}"
        for label, ending, func in STAGES
    ]
    lines.append(f"- {outside:.0%} everything outside the DRF view (handler, middleware)")
    return lines


# --- report ----------------------------------------------------------------------------------


def _rps(runs: list[Run]) -> float:
    return sum(r.requests for r in runs) / sum(r.seconds for r in runs)


def load_report(runs: list[Run], loadgen: str, args: argparse.Namespace) -> list[str]:
    by_path = {path: [r for r in runs if r.path == path] for path in (API, FLOOR, STACK)}
    floor_rps = _rps(by_path[FLOOR])
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M')}: {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}; one daphne "
        f"process; load generator **{loadgen}** on the same machine, {args.connections} "
        f"keep-alive connections, {args.rounds} rounds x {args.seconds} s per URL, alternating.",
        "",
        "| URL | requests | errors | req/s | p50 ms | p99 ms | req/s vs floor |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for path, rows in by_path.items():
        lines.append(
            f"| `{path}` | {sum(r.requests for r in rows)} | {sum(r.errors for r in rows)} | "
            f"{_rps(rows):.0f} | {statistics.median(r.p50_ms for r in rows):.1f} | "
            f"{statistics.median(r.p99_ms for r in rows):.1f} | {_rps(rows) / floor_rps:.0%} |"
        )
    ratio = _rps(by_path[API]) / floor_rps
    rounds = [a.rps / f.rps for a, f in zip(by_path[API], by_path[FLOOR], strict=True)]
    return [
        *lines,
        "",
        "req/s over all rounds; p50 and p99 are the median of the rounds' values. `/healthz` "
        "(no database, tiny JSON) is the fixed cost of the server and middleware.",
        "",
        f"**API / floor: {ratio:.0%}** (rounds: {', '.join(f'{r:.0%}' for r in rounds)}); "
        f"target >= 50 %: **{'met' if ratio >= 0.5 else 'NOT met'}**.",
    ]


def measure_all(args: argparse.Namespace, measure: Callable[..., Run]) -> list[Run]:
    port = harness.free_port()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        proc = harness.daphne_start(port, Path(tmp) / "daphne.log", ready=STACK)
        try:
            same_body_check(port)
            order = [API, FLOOR, STACK]
            for path in order:
                measure(path, port, args.warmup, args.connections)
            for round_ in range(args.rounds):  # rotate the order so drift hits every URL
                for path in order[round_ % 3 :] + order[: round_ % 3]:
                    run = measure(path, port, args.seconds, args.connections)
                    runs.append(run)
                    print(f"round {round_ + 1} {path}: {run.rps:.0f} req/s", file=sys.stderr)
            time.sleep(1)  # let the last requests finish before SIGTERM
        finally:
            harness.daphne_stop(proc)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="per URL per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=3, help="seconds per URL")
    parser.add_argument("--inprocess-requests", type=int, default=200)
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--write", action="store_true", help="rewrite bench/README.md results")
    args = parser.parse_args()
    wrk = args.loadgen == "wrk" or (args.loadgen == "auto" and shutil.which("wrk") is not None)

    database_prepare()
    same_sql_check()
    runs = measure_all(args, wrk_run if wrk else python_run)
    lines = load_report(runs, "wrk" if wrk else "Python asyncio", args)
    text = "\n".join([*lines, "", *in_process_report(args.inprocess_requests)])
    print(text)
    if args.write:
        harness.readme_write(text, MARKERS)


if __name__ == "__main__":
    main()
