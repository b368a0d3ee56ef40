"""A tiny supervisor: run the web server and the background workers as child processes, stop
them all together on Ctrl-C or SIGTERM, and stop the rest if one of them dies."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Worker:
    name: str
    argv: Sequence[str]


def web_argv(host: str, port: int, *, processes: int) -> list[str]:
    """The web server: uvicorn (httptools, uvloop) serving stxworx/server.py, HTTP and WebSocket
    on one address, `processes` worker processes sharing the socket. A request still running 5 s
    after SIGTERM is cancelled, so a stop never hangs on one."""
    return [
        sys.executable, "-m", "uvicorn", "stxworx.server:application",
        "--host", host, "--workers", str(processes),
        "--loop", "uvloop", "--http", "httptools", "--lifespan", "on",
        "--timeout-graceful-shutdown", "5", "--no-access-log",
        "--port", str(port),
    ]  # fmt: skip


def workers_default(
    host: str, port: int, *, indexer: bool = True, web_processes: int = 1
) -> list[Worker]:
    python = sys.executable
    workers = [
        Worker("web", web_argv(host, port, processes=web_processes)),
        Worker("tasks", [python, "manage.py", "qcluster"]),
    ]
    if indexer:  # one indexer per deployment: see README, "Production: scaling out"
        workers.append(Worker("indexer", [python, "manage.py", "run_indexer"]))
    return workers


def _stop(procs: dict[str, subprocess.Popen], grace: float) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for name, proc in procs.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            logger.warning("%s did not stop in %.0f s; killing it", name, grace)
            proc.kill()
            proc.wait()


def supervise(workers: Sequence[Worker], *, grace: float = 10.0) -> int:
    """Start every worker; return when one exits or a signal arrives, after stopping them all."""
    stopping: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        stopping.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    procs = {w.name: subprocess.Popen(list(w.argv)) for w in workers}
    logger.info("started %s", ", ".join(f"{n} (pid {p.pid})" for n, p in procs.items()))
    code = 0
    try:
        while not stopping:
            exited = [(n, p.returncode) for n, p in procs.items() if p.poll() is not None]
            if exited:
                name, code = exited[0]
                logger.error("%s exited with code %s; stopping the others", name, code)
                code = code or 1
                break
            time.sleep(0.2)
    finally:
        _stop(procs, grace)
        for s, handler in previous.items():
            signal.signal(s, handler)
    return code
