"""What one API call costs the indexer's own CPU, by HTTP client: the floor under issue 4's
look-ups (one `GET /extended/v3/transactions/{tx_id}` per project-created whose amounts are not
known off chain: 13,409 of them in the 100,000-event history).

    .venv/bin/python bench/http_client.py [--calls 300] [--rounds 20] [--write]

A loopback HTTP/1.1 server (keep-alive, TCP_NODELAY, in a thread of this process) answers every
GET with the same body, a mined create-project call as the v3 route returns it with
`include=function_args,result` (1.5 KB); the caller's thread CPU time (time.thread_time, so the
server's thread is not counted) is measured per call, JSON decoding included, for:

- `requests.Session.request` with a params dict (what chainsync.client.transport did before
  `670789f`; trust_env off, as there);
- a `requests.PreparedRequest` built by hand and sent with `Session.send` (no settings merge);
- `chainsync.client`'s transport end to end (`_get_json`: rate limiter, retry loop, request
  counts, status check, JSON) through its plain `requests.Session`;
- `StacksApiClient.transaction` (the look-up `creation_args_fetch` makes: the above plus the
  checked parse into a `Transaction`);
- `http.client.HTTPConnection` on one kept-alive connection (what requests sits on, the floor).

The calls are interleaved in `--rounds` rounds and each row keeps its lowest round, which other
load on the machine moves least. Prints markdown; `--write` puts it in bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # run as a script: the repo root, not bench/, goes first on the path

import requests  # noqa: E402

from chainsync.client import TX_V3, StacksApiClient  # noqa: E402

MARKERS = ("<!-- http-client-results:start -->", "<!-- http-client-results:end -->")
README = ROOT / "bench" / "README.md"
TX_ID = "0x" + "ab" * 32
PATH = f"/extended/v3/transactions/{TX_ID}"
QUERY = {"include": "function_args,result"}
SENDER = "SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7"
_UINTS = [1_000_000, 2_000_000, 0, 0]
ARGS = [
    {"hex": "0x05166a1ab7cdc1b6bfaddf0d1f0c7e3c94ba4da2d227", "repr": f"'{SENDER}"},
    *({"hex": "0x01" + f"{n:032x}", "repr": f"u{n}"} for n in _UINTS),
    {"hex": "0x0e0000000f612070726f6a656374207469746c65", "repr": 'u"a project title"'},
]
BODY = json.dumps(
    {
        "tx_id": TX_ID,
        "sender": {"address": SENDER, "nonce": 5},
        "sponsor": None,
        "fee_rate": "3000",
        "block": {
            "height": 100,
            "hash": "0x" + "cd" * 32,
            "index_hash": "0x" + "ef" * 32,
            "time": 1_700_000_000,
            "tx_index": 3,
        },
        "bitcoin_block": {"height": 800_000, "time": 1_700_000_000},
        "status": "success",
        "type": "contract_call",
        "contract_call": {
            "contract_id": f"{SENDER}.escrow",
            "function_name": "create-project",
            "function_args": ARGS,
        },
        "parent_block": {"hash": "0x" + "12" * 32, "index_hash": "0x" + "34" * 32},
        "event_count": 3,
        "execution_cost": {"read_count": 1, "read_length": 1, "runtime": 1},
        "vm_error": None,
        "result": {"hex": "0x070100000000000000000000000000000007", "repr": "(ok u7)"},
    }
).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # as the real API and the indexer bench's fake one

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


def _cpu_us_per_call(call: Callable[[], object], calls: int) -> float:
    start = time.thread_time()
    for _ in range(calls):
        call()
    return (time.thread_time() - start) / calls * 1e6


def _clients(port: int) -> tuple[list[tuple[str, Callable[[], object]]], list[Any]]:
    """(row name, one call) in report order, and what to close afterwards."""
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    session.trust_env = False
    headers = dict(session.headers)
    plain = StacksApiClient(base, rate_limit=0)
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.connect()
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def via_request() -> object:
        return session.request("GET", base + PATH, params=QUERY, timeout=10).json()

    def via_send() -> object:
        prepared = requests.PreparedRequest()
        prepared.prepare(method="GET", url=base + PATH, headers=headers, params=QUERY)
        return session.send(prepared, timeout=10, allow_redirects=False).json()

    def via_http_client() -> object:
        connection.request("GET", PATH + "?include=function_args%2Cresult")
        return json.loads(connection.getresponse().read())

    rows = [
        ("`requests.Session.request`, params dict (the client before `670789f`)", via_request),
        ("`PreparedRequest` + `Session.send`", via_send),
        (
            "`chainsync.client` transport, through its plain `requests.Session`",
            lambda: plain._get_json(TX_V3, PATH, QUERY),
        ),
        (
            "`StacksApiClient.transaction` (the look-up, parsed)",
            lambda: plain.transaction(TX_ID),
        ),
        ("`http.client`, one kept-alive connection (floor)", via_http_client),
    ]
    return rows, [session, plain, connection]


def measure(calls: int, rounds: int) -> list[tuple[str, float]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    clients, closing = _clients(server.server_address[1])
    try:
        for _name, call in clients:
            for _ in range(50):  # warm up: connection, caches
                call()
        best = {name: float("inf") for name, _ in clients}
        for _ in range(rounds):
            for name, call in clients:
                best[name] = min(best[name], _cpu_us_per_call(call, calls))
        return list(best.items())
    finally:
        server.shutdown()
        for thing in closing:
            thing.close()


def report(rows: list[tuple[str, float]], calls: int, rounds: int) -> str:
    floor = rows[-1][1]
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, Python "
        f"{sys.version.split()[0]}, requests {requests.__version__}; {calls:,} calls each, "
        f"the lowest of {rounds} interleaved rounds.",
        "",
        "| client | CPU µs per call | × floor | 13,409 look-ups, CPU s |",
        "|---|---:|---:|---:|",
    ]
    for name, us in rows:
        lines.append(f"| {name} | {us:,.0f} | {us / floor:.1f} | {us * 13_409 / 1e6:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    text = report(measure(args.calls, args.rounds), args.calls, args.rounds)
    print(text)
    if args.write:
        start, end = MARKERS
        head, rest = README.read_text().split(start, 1)
        README.write_text(f"{head}{start}\n{text}\n{end}{rest.split(end, 1)[1]}")


if __name__ == "__main__":
    main()
