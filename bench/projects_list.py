"""Benchmark `GET /api/projects` against a hand-written plain-Django floor, under one daphne.

    .venv/bin/python bench/projects_list.py [--write] [--seconds 10] [--rounds 3]

Migrates and seeds a throwaway SQLite file, checks the two views return the same JSON and run the
same SQL, starts daphne on a free loopback port, warms up, then measures the two URLs alternately
(wrk if installed, else a Python keep-alive client), and profiles both views in-process with
cProfile. Prints markdown; `--write` puts it in bench/README.md. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import platform
import pstats
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # run as a script, so the repo root (not bench/) goes on the path
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ.setdefault("BENCH_SQLITE_PATH", "/tmp/stxworx-bench.sqlite3")
for _name in ("DATABASE_URL", "REDIS_URL"):  # the bench always runs the embedded default
    os.environ.pop(_name, None)

HOST = "127.0.0.1"
PATHS = {"api": "/api/projects", "floor": "/bench/floor/projects"}
README = ROOT / "bench" / "README.md"
MARKERS = ("<!-- results:start -->", "<!-- results:end -->")
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"us":%d,"errors":%d,"p50":%d,"p99":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Run:
    name: str
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


# --- set-up ----------------------------------------------------------------------------------


def database_prepare() -> None:
    import django
    from django.core.management import call_command

    path = Path(os.environ["BENCH_SQLITE_PATH"])
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    django.setup()
    call_command("migrate", verbosity=0)
    from bench.seed import seed

    seed()


def same_sql_check() -> None:
    """Abort unless both views send the same SQL (the API's three queries)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    sql = {}
    for name, path in PATHS.items():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        sql[name] = [q["sql"] for q in ctx.captured_queries]
    if sql["api"] != sql["floor"]:
        sys.exit(f"The views run different SQL:\n{json.dumps(sql, indent=1)}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def daphne_start(port: int, log: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "daphne", "-b", HOST, "-p", str(port), "stxworx.asgi:application"]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.2)
    daphne_stop(proc)
    sys.exit(f"daphne did not come up:\n{log.read_text()[-2000:]}")


def daphne_stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def same_body_check(port: int) -> None:
    """Abort unless both URLs answer 200 with the same JSON (and say so if the bytes differ)."""
    bodies = {}
    for name, path in PATHS.items():
        with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=10) as response:
            bodies[name] = response.read()
    api, floor = (json.loads(bodies[name]) for name in PATHS)
    if api != floor:
        sys.exit(
            f"Bodies differ.\napi:   {bodies['api'][:600]!r}\nfloor: {bodies['floor'][:600]!r}"
        )
    if bodies["api"] != bodies["floor"]:
        print("warning: same JSON values, different bytes", file=sys.stderr)


# --- load generators -------------------------------------------------------------------------


def wrk_run(name: str, port: int, seconds: float, connections: int) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_REPORT)
        script.flush()
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
        argv += ["-s", script.name, f"http://{HOST}:{port}{PATHS[name]}"]
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    report = json.loads(out.strip().splitlines()[-1])
    return Run(
        name, report["requests"], report["us"] / 1e6, report["errors"],
        report["p50"] / 1e3, report["p99"] / 1e3,
    )  # fmt: skip


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


def python_run(name: str, port: int, seconds: float, connections: int) -> Run:
    async def main() -> tuple[list[float], int, float]:
        latencies: list[float] = []
        start = time.perf_counter()
        deadline = start + seconds
        clients = [_client(port, PATHS[name], deadline, latencies) for _ in range(connections)]
        errors = sum(await asyncio.gather(*clients))
        return latencies, errors, time.perf_counter() - start

    latencies, errors, elapsed = asyncio.run(main())
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Run(name, len(latencies), elapsed, errors, cuts[49] * 1e3, cuts[98] * 1e3)


# --- profile ---------------------------------------------------------------------------------

LAYERS = [  # first match wins; built-ins (filename "~") are matched on their name
    ("SQLite (C calls)", ("sqlite3",)),
    ("DRF", ("rest_framework/",)),
    ("Django ORM", ("django/db/",)),
    ("Django other (handler, middleware, urls, http)", ("django/",)),
    ("json", ("json/", "_json")),
    ("views and app code", ("/bench/", "/projects/", "/stxworx/", "/accounts/")),
]


def _layer(filename: str, func: str) -> str:
    where = func if filename == "~" else filename
    return next((name for name, keys in LAYERS if any(k in where for k in keys)), "other")


def profile(name: str, count: int) -> tuple[float, dict[str, float], list[str]]:
    """ms per request in-process (no server), share of own time per layer, top functions."""
    from django.test import Client

    client = Client(HTTP_HOST=HOST)
    timed = time.perf_counter()
    for _ in range(count):
        client.get(PATHS[name])
    ms = (time.perf_counter() - timed) * 1e3 / count
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [client.get(PATHS[name]) for _ in range(count)])
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in stats.values())
    layers: dict[str, float] = {}
    for (filename, _line, func), row in stats.items():
        layers[_layer(filename, func)] = layers.get(_layer(filename, func), 0) + row[2] / total
    top = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:8]
    tops = [f"{100 * row[2] / total:.1f} % `{_short(key)}`" for key, row in top]
    return ms, layers, tops


def _short(key: tuple[str, int, str]) -> str:
    filename, line, func = key
    if filename == "~":
        return func
    parts = Path(filename).parts
    tail = "/".join(
        parts[parts.index("site-packages") + 1 :] if "site-packages" in parts else parts[-2:]
    )
    return f"{tail}:{line} {func}"


# --- report ----------------------------------------------------------------------------------


def _rps(runs: list[Run]) -> float:
    return sum(r.requests for r in runs) / sum(r.seconds for r in runs)


def report(runs: list[Run], loadgen: str, args: argparse.Namespace, profiles: list[str]) -> str:
    by_name = {name: [r for r in runs if r.name == name] for name in PATHS}
    floor_rps = _rps(by_name["floor"])
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M')}: {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}; load generator "
        f"**{loadgen}**, {args.connections} keep-alive connections, {args.rounds} rounds x "
        f"{args.seconds:g} s per URL, alternating.",
        "",
        "| endpoint | requests | errors | req/s | p50 ms | p99 ms | vs floor |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, path in PATHS.items():
        rows = by_name[name]
        lines.append(
            f"| `{path}` | {sum(r.requests for r in rows)} | {sum(r.errors for r in rows)} | "
            f"{_rps(rows):.0f} | {statistics.median(r.p50_ms for r in rows):.1f} | "
            f"{statistics.median(r.p99_ms for r in rows):.1f} | {_rps(rows) / floor_rps:.0%} |"
        )
    ratio = _rps(by_name["api"]) / floor_rps
    rounds = [a.rps / f.rps for a, f in zip(by_name["api"], by_name["floor"], strict=True)]
    lines += [
        "",
        "req/s over all rounds; p50 and p99 are the median of the rounds' values.",
        f"API / floor rate: **{ratio:.0%}** (per round: {', '.join(f'{r:.0%}' for r in rounds)}). "
        f"Target >= 50 %: **{'met' if ratio >= 0.5 else 'NOT met'}**.",
        "",
        *profiles,
    ]
    return "\n".join(lines)


def profile_report(count: int) -> list[str]:
    results = {name: profile(name, count) for name in PATHS}
    lines = [
        f"In-process, no server (Django test client, {count} requests each, after daphne "
        f"stopped): API {results['api'][0]:.2f} ms/request, floor {results['floor'][0]:.2f} "
        f"ms/request ({results['floor'][0] / results['api'][0]:.0%}).",
        "",
        "| own time (cProfile) | API | floor |",
        "|---|---:|---:|",
    ]
    for layer in [name for name, _ in LAYERS] + ["other"]:
        lines.append(
            f"| {layer} | {results['api'][1].get(layer, 0):.0%} "
            f"| {results['floor'][1].get(layer, 0):.0%} |"
        )
    lines += ["", "Top functions by own time in the API request:", ""]
    lines += [f"- {entry}" for entry in results["api"][2]]
    return lines


def readme_write(text: str) -> None:
    start, end = MARKERS
    current = README.read_text()
    head, rest = current.split(start, 1)
    README.write_text(f"{head}{start}\n{text}\n{end}{rest.split(end, 1)[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--profile-requests", type=int, default=200)
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--write", action="store_true", help="rewrite bench/README.md results")
    args = parser.parse_args()
    use_wrk = args.loadgen == "wrk" or (args.loadgen == "auto" and shutil.which("wrk"))
    measure: Callable[[str, int, float, int], Run] = wrk_run if use_wrk else python_run

    database_prepare()
    same_sql_check()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = daphne_start(port, Path(tmp) / "daphne.log")
        try:
            same_body_check(port)
            for name in PATHS:
                measure(name, port, args.warmup, args.connections)
            runs = []
            for round_ in range(args.rounds):  # alternate the order so drift hits both
                for name in PATHS if round_ % 2 == 0 else reversed(PATHS):
                    runs.append(run := measure(name, port, args.seconds, args.connections))
                    print(f"round {round_ + 1} {name}: {run.rps:.0f} req/s", file=sys.stderr)
        finally:
            daphne_stop(proc)
    text = report(runs, "wrk" if use_wrk else "python", args, profile_report(args.profile_requests))
    print(text)
    if args.write:
        readme_write(text)


if __name__ == "__main__":
    main()
