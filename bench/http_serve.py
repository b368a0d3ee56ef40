"""The API as `make run` serves it, this checkout against an older commit checked out beside it,
in one run: the job board (pages of 20 and 100) and /healthz under wrk at 16 and 64 keep-alive
connections; SQLite and PostgreSQL; WEB_CONCURRENCY 1 and 2. Reports req/s, projects/s, p50,
p99, errors, the web processes' CPU per request and the most database connections open at once;
and how much the web processes grow while an anonymous 256 MiB upload is refused. The servers
of one database serve at once and take turns, `--rounds` times per row (the median is shown).

    .venv/bin/python bench/http_serve.py [--old d18ccf4] [--seconds 5] [--rounds 3] [--write]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

from bench.harness import free_port, readme_write  # noqa: E402
from bench.inprocess import HOST  # noqa: E402
from bench.wrk import Run, wrk_run  # noqa: E402

PG = "postgres://postgres@127.0.0.1:5432"
MARKERS = ("<!-- http-serve:start -->", "<!-- http-serve:end -->")
URLS = [("/api/projects", 20), ("/api/projects?pageSize=100", 100), ("/healthz", 0)]
SEED = "import django; django.setup(); from bench.seed import seed; seed(1000)"


@dataclass(frozen=True)
class Server:
    label: str
    checkout: Path
    processes: int  # WEB_CONCURRENCY (the old commit serves one daphne whatever it says)
    database: str  # "sqlite" or "postgres"


@dataclass(frozen=True)
class Row:
    server: Server
    connections: int
    path: str
    per_page: int
    run: Run
    cpu_ms: float
    db_connections: tuple[int, int]  # the most open at once: every process, the web's


# --- processes -------------------------------------------------------------------------------


def tree(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        child, parent = map(int, line.split())
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


def web_pids(serve_pid: int) -> list[int]:
    """The web server's processes under `manage.py serve` (not the task cluster or indexer)."""
    for child in tree(serve_pid)[1:]:
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        if b"uvicorn" in cmdline or b"daphne" in cmdline:
            return tree(child)
    raise RuntimeError("no web server under manage.py serve")


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / os.sysconf("SC_CLK_TCK")


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def database_env(server: Server, tmp: Path) -> tuple[dict[str, str], Callable[[], tuple]]:
    """A fresh database for one server, and a function counting its open connections: from
    every process of the deployment, and from the web server's alone (on PostgreSQL, by the
    application name this checkout's web processes give theirs; unknown for the old one)."""
    env = {**os.environ, "DJANGO_DEBUG": "false", "INDEXER_ENABLED": "false"}
    env["DJANGO_SETTINGS_MODULE"] = "stxworx.settings"
    env |= {"STACKS_API_URL": "http://127.0.0.1:9", "WEB_CONCURRENCY": str(server.processes)}
    env.pop("REDIS_URL", None)
    if server.database == "sqlite":
        path = tmp / f"{server.label}-{server.processes}.sqlite3"
        env["SQLITE_PATH"] = str(path)
        env.pop("DATABASE_URL", None)

        def count(web: list[int]) -> tuple[int, int]:
            every = sum(_fds_to(pid, path) for pid in tree(os.getpid())[1:])
            return every, sum(_fds_to(pid, path) for pid in web)

        return env, count
    name = f"bench_{server.label}_{server.processes}"
    sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    sql(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = f"{PG}/{name}"

    def count_pg(web: list[int]) -> tuple[int, int]:
        every, named = sql(
            "SELECT count(*), count(*) FILTER (WHERE application_name = %s) "
            "FROM pg_stat_activity WHERE datname = %s",
            ("stxworx-web", name),
        )
        return every, named

    return env, count_pg


def _fds_to(pid: int, path: Path) -> int:
    count = 0
    with suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with suppress(OSError):
                count += os.readlink(fd) == str(path)
    return count


_admin: list = []  # one connection, opened before any server runs: the old one exhausts them


def sql(statement: str, params: tuple = ()) -> tuple:
    import psycopg

    if not _admin:
        _admin.append(psycopg.connect(f"{PG}/postgres", autocommit=True))
    cursor = _admin[0].execute(statement, params)
    return cursor.fetchone() if cursor.description else ()


@contextmanager
def serving(server: Server, env: dict[str, str], log: Path) -> Iterator[tuple[int, int]]:
    """`manage.py migrate`, the seed, then `manage.py serve` as `make run` runs them; yields the
    serve process's pid and port."""
    python, cwd = sys.executable, server.checkout
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=cwd, env=env, check=True)
    subprocess.run([python, "-c", SEED], cwd=cwd, env=env, check=True)
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [python, "manage.py", "serve", "--port", str(port)],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        if not healthz_within(port, 10.0, lambda: proc.poll() is None):
            raise RuntimeError(log.read_text()[-2000:])
        time.sleep(2)  # every web process up
        yield proc.pid, port
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


# --- measuring -------------------------------------------------------------------------------


def peak_while(sample: Callable[[], tuple], work: Callable[[], Run]) -> tuple[tuple, Run]:
    """The most of each count `sample()` gives while `work()` runs (every 100 ms)."""
    import threading

    peak, done = sample(), threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = tuple(map(max, peak, sample()))
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        run = work()
    finally:
        done.set()
        watcher.join()
    return tuple(map(max, peak, sample())), run


@dataclass(frozen=True)
class Live:
    server: Server
    port: int
    pids: list[int]
    connections_open: Callable[[list[int]], tuple]


def measure(servers: list[Server], tmp: Path, seconds: int, rounds: int) -> tuple[list[Row], dict]:
    """Every server of one database serving at once (each on its own database), measured in
    turn, `rounds` times per row: a slow spell of this shared machine then falls on all of
    them instead of on whichever was running. A row is its median round by req/s."""
    rows: list[Row] = []
    growth: dict[str, float] = {}
    with ExitStack() as stack:
        live = []
        for server in servers:
            env, count = database_env(server, tmp)
            log = tmp / f"{server.label}-{server.processes}-{server.database}.log"
            pid, port = stack.enter_context(serving(server, env, log))
            live.append(Live(server, port, web_pids(pid), count))
        for conns in (16, 64):
            for path, per_page in URLS:
                samples: list[list[Row]] = [[] for _ in live]
                for one in live:
                    wrk_run(path, one.port, 1, conns, threads=2)  # warm-up
                for _ in range(rounds):
                    for one, found in zip(live, samples, strict=True):
                        found.append(row_measured(one, conns, path, per_page, seconds))
                rows += [median(found) for found in samples]
        if servers[0].database == "sqlite":
            for one in live:
                label = f"{one.server.label} x{one.server.processes}"
                growth[label] = refused_upload_growth(one.port, one.pids)
    return rows, growth


def row_measured(one: Live, conns: int, path: str, per_page: int, seconds: int) -> Row:
    duration = seconds
    while True:
        drained(one.port)
        cpu = cpu_seconds(one.pids)
        peak, run = peak_while(
            lambda: one.connections_open(one.pids),
            lambda d=duration: wrk_run(path, one.port, d, conns, threads=2),
        )
        cpu_ms = (cpu_seconds(one.pids) - cpu) * 1000 / max(run.requests, 1)
        longer = longer_run(run, conns, duration)
        if longer is None:
            return Row(one.server, conns, path, per_page, run, cpu_ms, peak)
        duration = longer


def median(rounds: list[Row]) -> Row:
    """The median round by req/s, with the most database connections any round saw."""
    middle = sorted(rounds, key=lambda r: r.run.rps)[len(rounds) // 2]
    peak = tuple(max(counts) for counts in zip(*(r.db_connections for r in rounds), strict=True))
    return dataclasses.replace(middle, db_connections=peak)


def healthz_within(port: int, seconds: float, alive: Callable[[], bool] = lambda: True) -> bool:
    """Whether /healthz answers within `seconds` before 60 s are up (or `alive()` turns false),
    asking every 0.2 s."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and alive():
        start = time.monotonic()
        with suppress(OSError):
            urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=10).close()
            if time.monotonic() - start < seconds:
                return True
        time.sleep(0.2)
    return False


def drained(port: int) -> None:
    """Wait (at most 60 s) until what the last run left queued is answered: /healthz answers
    within 50 ms (the old server answers it from the same thread pool, behind the backlog)."""
    healthz_within(port, 0.05)


MIN_REQUESTS_PER_CONNECTION = 3
LONGEST_RUN = 60


def longer_run(run: Run, connections: int, seconds: int) -> int | None:
    """A run too short for the server's latency counts mostly the requests that happened to
    finish in its window (the old server at 64 connections on pages of 100 answered one in
    5 s): such a run, under 3 requests per connection, is repeated for long enough to answer
    that many, up to 60 s. None when the run stands."""
    wanted = MIN_REQUESTS_PER_CONNECTION * connections
    if run.requests >= wanted or seconds >= LONGEST_RUN:
        return None
    return min(LONGEST_RUN, -(-seconds * wanted // max(run.requests, 1)))


def refused_upload_growth(port: int, pids: list[int]) -> float:
    """MiB the web processes grow (peak RSS over RSS before) while an anonymous 256 MiB
    multipart POST to /api/files is sent whole and refused."""
    before = {pid: status_kib(pid, "VmRSS") for pid in pids}
    sock = socket.create_connection((HOST, port), timeout=120)
    head = f"POST /api/files HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {256 << 20}\r\n"
    sock.sendall((head + "Content-Type: multipart/form-data; boundary=bench\r\n\r\n").encode())
    block, sent = b"--bench\r\n" + b"x" * ((1 << 20) - 9), 0
    try:
        while sent < 256 << 20:
            sock.sendall(block)
            sent += len(block)
        sock.recv(1024)
    except OSError:
        pass
    sock.close()
    time.sleep(1)
    grown = [status_kib(pid, "VmHWM") - kib for pid, kib in before.items()]
    return sum(max(0, g) for g in grown) / 1024


# --- report ----------------------------------------------------------------------------------


def report(rows: list[Row], growth: dict[str, float], old: str, seconds: int, rounds: int) -> str:
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M')}: {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; `manage.py serve` (as `make run`, DJANGO_DEBUG=false, "
        f"indexer off) with 1,000 projects; the three servers of a database up at once, each "
        f"row measured {rounds} times in turn (old, this x1, this x2) and its median round by "
        f"req/s shown; wrk on the same machine, 2 threads, {seconds} s per round after a 1 s "
        "warm-up and the last round's backlog answered (a round under 3 requests per "
        "connection is run again for long enough, up to 60 s). `old` is "
        f"`{old}` (one daphne process whatever WEB_CONCURRENCY says). req/s counts the answers "
        "that are not errors (a 500 is in `errors`, not in req/s).",
        "",
        "| database | server | WEB_CONCURRENCY | conns | URL | req/s | projects/s | p50 ms "
        "| p99 ms | errors | CPU ms/req | DB conns: all | DB conns: web |",
        "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        known = r.server.label != "old" or r.server.database == "sqlite"
        web_conns = r.db_connections[1] if known else "?"
        lines.append(
            f"| {r.server.database} | {r.server.label} | {r.server.processes} | {r.connections} "
            f"| `{r.path}` | {r.run.rps:,.0f} | {r.run.rps * r.per_page:,.0f} "
            f"| {r.run.p50_ms:.1f} | {r.run.p99_ms:.1f} | {r.run.errors} | {r.cpu_ms:.2f} "
            f"| {r.db_connections[0]} | {web_conns} |"
        )
    lines += ["", "Ratios, this checkout at WEB_CONCURRENCY=2 against `old`, same database and "
              "connections:", ""]  # fmt: skip
    lines += ratios(rows)
    grown = ", ".join(f"{k} {v:,.0f} MiB" for k, v in growth.items())
    lines += ["", f"Web processes' growth while a 256 MiB anonymous upload is refused: {grown}."]
    return "\n".join(lines)


def ratios(rows: list[Row]) -> list[str]:
    def rps(label: str, processes: int, db: str, conns: int, path: str) -> float:
        for r in rows:
            s = r.server
            key = (s.label, s.processes, s.database, r.connections, r.path)
            if key == (label, processes, db, conns, path):
                return r.run.rps
        return float("nan")

    out = ["| database | conns | page of 20 | page of 100 | /healthz |"]
    out.append("|---|---:|---:|---:|---:|")
    for db in sorted({r.server.database for r in rows}):
        for conns in (16, 64):
            cells = []
            for p, _ in URLS:
                new, old = rps("this", 2, db, conns, p), rps("old", 1, db, conns, p)
                cells.append(f"{new / old:.1f}x" if old else "old: 0 req/s")
            out.append(f"| {db} | {conns} | " + " | ".join(cells) + " |")
    return out


def old_checkout(commit: str, tmp: Path) -> Path:
    target = tmp / f"old-{commit}"
    target.mkdir()
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def postgres_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", default="d18ccf4")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    databases = [d for d in args.databases.split(",") if d != "postgres" or postgres_answers()]
    rows: list[Row] = []
    growth: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="stxworx-http-") as tmp_name:
        tmp = Path(tmp_name)
        old = old_checkout(args.old, tmp)
        for db in databases:
            servers = [Server("old", old, 1, db), Server("this", ROOT, 1, db),
                       Server("this", ROOT, 2, db)]  # fmt: skip
            print(f"measuring on {db}", file=sys.stderr)
            measured, grown = measure(servers, tmp, args.seconds, args.rounds)
            rows += measured
            growth |= grown
    paths = [path for path, _ in URLS]
    rows.sort(
        key=lambda r: (databases.index(r.server.database), r.server.label != "old",
                       r.server.processes, r.connections, paths.index(r.path))
    )  # fmt: skip
    text = report(rows, growth, args.old, args.seconds, args.rounds)
    print(text)
    if args.write:
        readme_write(text, MARKERS)


if __name__ == "__main__":
    main()
