"""What the bench scripts share: a fresh throwaway SQLite database, a signed-in user's token,
daphne on a free loopback port, and their results block in bench/README.md.

Import it after the script has put the repo root first on sys.path and set
DJANGO_SETTINGS_MODULE to bench.settings (and BENCH_SQLITE_PATH)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.inprocess import HOST, ROOT

README = ROOT / "bench" / "README.md"
BENCH_ADDRESS = "ST7FGBE4XDCP2CB4BAAAHA9A8Y6VKQVSNN43CFAV"


def database_fresh() -> None:
    """Delete the throwaway SQLite file (BENCH_SQLITE_PATH, and its WAL files), set Django up
    and migrate."""
    import django
    from django.core.management import call_command

    path = os.environ["BENCH_SQLITE_PATH"]
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    django.setup()
    call_command("migrate", verbosity=0)


def token_signed_in() -> str:
    """A session token (the Bearer JWT) of the bench's user, created if need be."""
    from accounts.services import user_get_or_create
    from accounts.tokens import token_issue

    return token_issue(user=user_get_or_create(address=BENCH_ADDRESS))[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def daphne_start(port: int, log: Path, ready: str = "/healthz") -> subprocess.Popen[bytes]:
    """daphne serving stxworx.asgi on HOST:port, its output in `log`; returns once `ready`
    answers (exits the script if it does not within 30 s)."""
    argv = [sys.executable, "-m", "daphne", "-b", HOST, "-p", str(port), "stxworx.asgi:application"]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(f"http://{HOST}:{port}{ready}", timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.2)
    daphne_stop(proc)
    sys.exit(f"daphne did not come up:\n{log.read_text()[-2000:]}")


def daphne_stop(proc: subprocess.Popen[bytes]) -> None:
    # daphne can hang on SIGTERM while a request is still in a worker thread: kill after 5 s.
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        print("daphne still running 5 s after SIGTERM; killed", file=sys.stderr)
        proc.kill()
        proc.wait()


def readme_write(text: str, markers: tuple[str, str]) -> None:
    """Replace what stands between the two marker lines of bench/README.md with `text`."""
    start, end = markers
    head, rest = README.read_text().split(start, 1)
    README.write_text(f"{head}{start}\n{text}\n{end}{rest.split(end, 1)[1]}")
