"""wrk, the load generator (`apt-get install -y wrk`), and what one run of it measured."""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass

from bench.inprocess import HOST

WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"us":%d,"errors":%d,"p50":%d,"p99":%d}\\n',
    summary.requests - e.status, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Run:
    path: str
    requests: int  # answered with a 2xx or 3xx (a 500 is an error, not a request served)
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def wrk_run(path: str, port: int, seconds: int, connections: int, threads: int = 1) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_REPORT)
        script.flush()
        argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
        argv += ["-s", script.name, f"http://{HOST}:{port}{path}"]
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return Run(path, r["requests"], r["us"] / 1e6, r["errors"], r["p50"] / 1e3, r["p99"] / 1e3)
