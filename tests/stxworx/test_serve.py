"""`make run`'s last step, for real: `manage.py serve` starts the web server and the task
cluster, serves the API and the docs, and stops everything on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.processes import manage, project_env, serving


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


@pytest.fixture
def served(tmp_path):
    # The indexer runs too; point it at a closed loopback port (it backs off and keeps going).
    env = project_env(tmp_path, STACKS_API_URL="http://127.0.0.1:9", INDEXER_POLL_SECONDS="1")
    manage(env, "migrate", "-v0")
    with serving(["manage.py", "serve", "--port"], env, tmp_path / "serve.log") as running:
        yield running


def test_serve_runs_web_and_workers_and_stops_them_all(served):
    proc, base = served
    assert get(f"{base}/healthz") == (200, b'{"status": "ok"}')
    status, html = get(f"{base}/api/docs/")
    assert status == 200 and b"swagger-ui" in html
    bundle = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    status, js = get(base + bundle)
    assert status == 200 and len(js) > 100_000
    assert get(f"{base}/api/projects")[0] == 200
    workers = children_of(proc.pid)
    assert len(workers) == 3  # the web server, qcluster and the indexer
    # when
    proc.send_signal(signal.SIGTERM)
    # then
    assert proc.wait(timeout=30) == 0
    time.sleep(0.5)
    assert [pid for pid in workers if alive(pid)] == []
