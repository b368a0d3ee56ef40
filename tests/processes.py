"""Real processes for end-to-end tests: a project environment on a throwaway SQLite file,
`manage.py` commands, the web server, and small HTTP helpers (loopback only)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import STDOUT, Popen
from typing import Any

from stxworx.processes import web_argv
from tests.accounts.signer import Wallet

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def project_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a process of this project on its own SQLite file (never the shared
    database); REDIS_URL passes through, so CI's second run uses real Redis."""
    env = {**os.environ, "SQLITE_PATH": str(tmp_path / "db.sqlite3"), "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["CHANNELS_PREFIX"] = f"e2e{os.getpid()}"
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def request(url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def sign_in(base: str, seed: str = "files-e2e") -> str:
    """A wallet signs in over HTTP; its JWT."""
    wallet = Wallet.from_seed(seed)
    status, challenge = request(f"{base}/api/auth/challenge", {"address": wallet.address})
    assert status == 200, challenge
    body = {
        "address": wallet.address,
        "signature": wallet.sign(challenge["challenge"]),
        "challenge": challenge["challenge"],
    }
    status, session = request(f"{base}/api/auth/verify", body)
    assert status == 200, session
    return session["token"]


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextmanager
def serving(args: list[str], env: dict[str, str], log: Path) -> Iterator[tuple[Popen, str]]:
    """Run `python <args> … --port N` from the project root until /healthz answers; yield the
    process and its base URL; stop it (SIGTERM, then SIGKILL after 10 s) on the way out."""
    port = free_port()
    with log.open("wb") as out:
        proc = Popen(
            [sys.executable, *args, str(port)], cwd=ROOT, env=env, stdout=out, stderr=STDOUT
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/healthz", 30)
            yield proc, f"http://127.0.0.1:{port}"
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@contextmanager
def web_server(env: dict[str, str], log: Path, *, processes: int = 1) -> Iterator[str]:
    """The web server as `manage.py serve` runs it (uvicorn on stxworx/server.py: HTTP and
    WebSocket), without the background workers; yields its base URL."""
    args = web_argv("127.0.0.1", 0, processes=processes)[1:-1]  # serving() adds the port
    with serving(args, env, log) as (_, base):
        yield base
