"""What one API call costs the indexer's own CPU, by HTTP client: the floor under issue 4's
look-ups (one `GET /extended/v3/transactions/{tx_id}` per project-created whose amounts are not
known off chain: 13,409 of them in the 100,000-event history).

    .venv/bin/python bench/http_client.py [--calls 3000] [--write]

A loopback HTTP/1.1 server (keep-alive, in a thread of this process) answers every GET with the
same small JSON body; the caller's thread CPU time (time.thread_time, so the server's thread is
not counted) is measured per call, JSON decoding included, for:

- `requests.Session.request` (what chainsync.client.transport does; trust_env off, as there);
- a `requests.PreparedRequest` built by hand and sent with `Session.send` (no settings merge);
- `http.client.HTTPConnection` on one kept-alive connection (what requests sits on, the floor).

Prints markdown; `--write` puts it in bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # run as a script: the repo root, not bench/, goes first on the path

import requests  # noqa: E402

MARKERS = ("<!-- http-client-results:start -->", "<!-- http-client-results:end -->")
README = ROOT / "bench" / "README.md"
PATH = "/extended/v3/transactions/0x" + "ab" * 32
BODY = json.dumps(
    {"tx_id": "0x" + "ab" * 32, "tx_status": "success", "function_args": ["0x01" + "00" * 16] * 5}
).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


def _cpu_us_per_call(call: Callable[[], object], calls: int) -> float:
    for _ in range(50):  # warm up: connection, caches
        call()
    start = time.thread_time()
    for _ in range(calls):
        call()
    return (time.thread_time() - start) / calls * 1e6


def measure(calls: int) -> list[tuple[str, float]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    url = f"http://127.0.0.1:{port}{PATH}"
    session = requests.Session()
    session.trust_env = False
    headers = dict(session.headers)

    def via_request() -> object:
        return session.request("GET", url, params={"include": "x"}, timeout=10).json()

    def via_send() -> object:
        prepared = requests.PreparedRequest()
        prepared.prepare(method="GET", url=url, headers=headers, params={"include": "x"})
        return session.send(prepared, timeout=10, allow_redirects=False).json()

    connection = http.client.HTTPConnection("127.0.0.1", port)

    def via_http_client() -> object:
        connection.request("GET", PATH + "?include=x")
        return json.loads(connection.getresponse().read())

    try:
        clients = [
            ("`requests.Session.request` (the client today)", via_request),
            ("`PreparedRequest` + `Session.send`", via_send),
            ("`http.client`, one kept-alive connection (floor)", via_http_client),
        ]
        return [(name, _cpu_us_per_call(call, calls)) for name, call in clients]
    finally:
        server.shutdown()
        session.close()
        connection.close()


def report(rows: list[tuple[str, float]], calls: int) -> str:
    floor = rows[-1][1]
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, Python "
        f"{sys.version.split()[0]}, requests {requests.__version__}; {calls:,} calls each.",
        "",
        "| client | CPU µs per call | × floor | 13,409 look-ups, CPU s |",
        "|---|---:|---:|---:|",
    ]
    for name, us in rows:
        lines.append(f"| {name} | {us:,.0f} | {us / floor:.1f} | {us * 13_409 / 1e6:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    text = report(measure(args.calls), args.calls)
    print(text)
    if args.write:
        start, end = MARKERS
        head, rest = README.read_text().split(start, 1)
        README.write_text(f"{head}{start}\n{text}\n{end}{rest.split(end, 1)[1]}")


if __name__ == "__main__":
    main()
