"""The web server for real (stxworx/server.py under uvicorn, as `manage.py serve` runs it): a
refused upload is refused before its body arrives and costs the server no memory, a body without
a length is a 411, a stop never waits on a request stuck in a thread, and the database
connections stay bounded however many clients there are."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.client import HTTPConnection
from pathlib import Path
from subprocess import Popen
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from stxworx.processes import web_argv
from tests.processes import manage, project_env, serving, sign_in

MiB = 1024 * 1024
THREADS = 4


@contextmanager
def web(tmp_path: Path, processes: int = 1, **env: str) -> Iterator[tuple[Popen, str]]:
    """The web server alone on a fresh database; yields its process and base URL."""
    env = project_env(
        tmp_path,
        INDEXER_ENABLED="false",
        STACKS_API_URL="http://127.0.0.1:9",
        WEB_THREADS=str(THREADS),
        **env,
    )
    manage(env, "migrate", "-v0")
    args = web_argv("127.0.0.1", 0, processes=processes)[1:-1]  # serving() adds the port
    with serving(args, env, tmp_path / "web.log") as (proc, base):
        yield proc, base


@pytest.fixture
def one_process(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """One web process (uvicorn serves in it, no supervisor): its pid and base URL."""
    with web(tmp_path) as (proc, base):
        yield proc.pid, base


def memory_kib(pid: int, field: str) -> int:
    """VmRSS (now) or VmHWM (the peak) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def open_post(base: str, path: str, length: int, headers: dict[str, str]) -> socket.socket:
    """A POST whose head is sent and whose body is not (yet)."""
    url = urlsplit(base)
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    lines = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}", f"Content-Length: {length}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed before a response: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
    while len(body) < int(headers.get("content-length", "0")):
        body += sock.recv(65536)
    return int(status_line.split()[1]), headers, body


def send_until_refused(sock: socket.socket, total: int) -> int:
    """Keep sending the body (as a client that does not read the answer would); the bytes the
    server took before it closed the connection."""
    sent, block = 0, b"x" * MiB
    try:
        while sent < total:
            sent += sock.send(block[: min(MiB, total - sent)])
    except OSError:
        pass
    return sent


BOUNDARY = b"stxworx-test-7f3a9c0e"  # long: random bytes must not contain it
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY.decode()}"}


REFUSED = {
    # an anonymous 256 MiB upload, a signed-in one over FILES_MAX_BYTES, and a 256 MiB JSON body
    # (past DATA_UPLOAD_MAX_MEMORY_SIZE) to an endpoint anyone may call
    "anonymous": ("/api/files", MULTIPART, 256 * MiB, False, 401, b'"not_authenticated"'),
    "over_the_limit": ("/api/files", MULTIPART, 300 * 10**6, True, 413, b'"file_too_large"'),
    "json": ("/api/auth/challenge", {"Content-Type": "application/json"}, 256 * MiB, False, 413,
             b'"payload_too_large"'),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_body_is_answered_before_it_arrives_and_costs_no_memory(one_process, case):
    pid, base = one_process
    path, headers, size, signed_in, status_expected, code = REFUSED[case]
    if signed_in:
        headers = {**headers, "Authorization": f"Bearer {sign_in(base, 'server-upload')}"}
    before = memory_kib(pid, "VmRSS")

    # when: the head and the first MiB are sent
    sock = open_post(base, path, size, headers)
    sock.sendall(b"--" + BOUNDARY + b"\r\n" + b"x" * MiB)
    status, response_headers, body = read_response(sock)

    # then: answered at once, in the envelope, and the connection will not take the rest
    assert (status, code in body) == (status_expected, True), body
    assert response_headers["connection"] == "close"
    send_until_refused(sock, size)
    sock.close()
    time.sleep(0.5)
    grown_mib = (memory_kib(pid, "VmHWM") - before) / 1024
    assert grown_mib <= 64, f"the server grew by {grown_mib:.0f} MiB"


def test_an_upload_streams_in_without_growing_the_server(one_process, tmp_path):
    """An accepted 20 MB upload (FILES_MAX_BYTES is 25 MB) goes to disk as it arrives."""
    pid, base = one_process
    token = sign_in(base, "server-stream")
    data = b"PK\x03\x04" + os.urandom(20 * 1000 * 1000)
    body = (
        b"--" + BOUNDARY + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="big.zip"\r\n'
        b"Content-Type: application/zip\r\n\r\n" + data + b"\r\n--" + BOUNDARY + b"--\r\n"
    )
    before = memory_kib(pid, "VmRSS")
    headers = {**MULTIPART, "Authorization": f"Bearer {token}"}
    sock = open_post(base, "/api/files", len(body), headers)
    for at in range(0, len(body), MiB):
        sock.sendall(body[at : at + MiB])
    status, _, answer = read_response(sock)
    sock.close()
    assert status == 201, answer
    grown_mib = (memory_kib(pid, "VmHWM") - before) / 1024
    assert grown_mib <= 64, f"the server grew by {grown_mib:.0f} MiB for a 20 MB upload"


def test_a_body_without_a_length_is_a_411_in_the_envelope(one_process):
    _, base = one_process
    url = urlsplit(base)
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    head = "POST /api/auth/challenge HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    sock.sendall(f"{head}Content-Type: application/json\r\n\r\n10\r\n".encode())
    status, headers, body = read_response(sock)
    sock.close()
    assert (status, headers["connection"]) == (411, "close")
    assert body.startswith(b'{"error": {"code": "length_required"')


def test_sigterm_stops_the_server_with_a_request_stuck_in_a_thread(tmp_path):
    with web(tmp_path) as (proc, base):
        # a JSON body that never finishes: its request waits for it on a worker thread
        sock = open_post(base, "/api/auth/challenge", 200_000, {"Content-Type": "application/json"})
        sock.sendall(b'{"address": "' + b"S" * 70_000)
        time.sleep(1)
        started = time.monotonic()
        proc.terminate()
        proc.wait(timeout=20)
        took = time.monotonic() - started
        sock.close()
    assert took < 9, f"the server took {took:.1f} s to stop"


def load(base: str, clients: int, requests_each: int, path: str) -> list[int]:
    """`clients` keep-alive connections, each sending its requests one after another."""
    url = urlsplit(base)
    statuses: list[int] = []

    def client() -> None:
        conn = HTTPConnection(url.hostname, url.port, timeout=30)
        for _ in range(requests_each):
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def most_while(sample, work) -> tuple[int, object]:
    """The largest value `sample()` gives while `work()` runs (sampled every 20 ms)."""
    peak, done = 0, threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, sample())
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = work()
    finally:
        done.set()
        watcher.join()
    return max(peak, sample()), result


def sqlite_connections(pid: int, db: Path) -> int:
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with suppress(OSError):  # closed while we looked
            count += os.readlink(fd) == str(db)
    return count


def test_sqlite_connections_stay_one_per_thread_under_64_clients(one_process, tmp_path):
    pid, base = one_process
    peak, statuses = most_while(
        lambda: sqlite_connections(pid, tmp_path / "db.sqlite3"),
        lambda: load(base, clients=64, requests_each=5, path="/api/projects"),
    )
    assert statuses == [200] * 320
    assert 1 <= peak <= THREADS
    assert sqlite_connections(pid, tmp_path / "db.sqlite3") <= THREADS  # and none leak after


@pytest.mark.skipif(not settings.IS_POSTGRES, reason="PostgreSQL only (CI's second run)")
def test_postgres_connections_stay_within_the_pool_under_64_clients(tmp_path):
    import psycopg

    name = f"stxworx_web_{os.getpid()}"
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}").geturl()
    admin = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with web(tmp_path, processes=2, DATABASE_URL=url, DB_POOL_MAX_SIZE="2") as (_, base):
            count = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
            peak, statuses = most_while(
                lambda: admin.execute(count, (name,)).fetchone()[0],
                lambda: load(base, clients=64, requests_each=5, path="/api/projects"),
            )
        assert statuses == [200] * 320
        assert 1 <= peak <= 2 * 2  # DB_POOL_MAX_SIZE per process, 2 processes
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


STARTUP = """
import asyncio, gc, json, sys
from stxworx.server import application

async def main():
    sent, messages = [], [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    async def receive():
        return messages.pop(0)
    async def send(message):
        sent.append(message["type"])
    await application({"type": "lifespan"}, receive, send)
    views = "projects.apis" in sys.modules
    print(json.dumps({"sent": sent, "frozen": gc.get_freeze_count(), "views": views}))

asyncio.run(main())
"""


def test_startup_imports_the_views_and_freezes_what_it_made(tmp_path):
    """The lifespan start-up imports the URLconf and moves the start-up objects out of the
    collector's sight (without it a full collection paused the process ~70 ms)."""
    env = project_env(tmp_path, STACKS_API_URL="http://127.0.0.1:9")
    done = subprocess.run(
        [sys.executable, "-c", STARTUP], cwd=settings.BASE_DIR, env=env,
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    started = json.loads(done.stdout.strip().splitlines()[-1])
    assert started["sent"] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert started["views"] is True
    assert started["frozen"] > 50_000
