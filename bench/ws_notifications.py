"""Benchmark the notification stream: N signed-in WebSocket clients on ONE daphne process, a
burst of notifications written by another process (as the indexer would), latency from just
before each row's INSERT to its receipt by the client.

    .venv/bin/python bench/ws_notifications.py [--clients 1000] [--per-client 1] [--write]

Runs twice: `redis` (REDIS_URL, channels_redis: the production path) and `embedded` (no Redis:
the in-memory layer plus the per-process database relay, polling every second). Loopback only,
bounded in time. Prints markdown; `--write` puts it in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

from tests.processes import daphne, manage, project_env  # noqa: E402

README = ROOT / "bench" / "README.md"
MARKERS = ("<!-- ws-results:start -->", "<!-- ws-results:end -->")
HANDSHAKES = 20

SESSIONS = """
import json, hashlib
from accounts.models import User
from accounts.tokens import token_issue
from accounts.auth import ws_ticket_issue
from stacks.c32 import address_from_hash160
out = []
for i in range({n}):
    h = hashlib.sha256(f"bench-ws-{{i}}".encode()).digest()[:20]
    user, _ = User.objects.get_or_create(address=address_from_hash160(26, h))
    _, claims = token_issue(user=user)
    out.append({{"address": user.address, "ticket": ws_ticket_issue(user=user, claims=claims)[0]}})
print(json.dumps(out))
"""

WRITER = """
import json, time
from notifications.services import notification_create
addresses = json.load(open({addresses!r}))
import os
if os.environ.get("BENCH_REVERSE"): addresses.reverse()
sent = []
for round_ in range({per_client}):
    for address in addresses:
        t0 = time.time()
        n = notification_create(recipient=address, type="payment_released", message="bench")
        sent.append([n.pk, t0])
json.dump(sent, open({out!r}, "w"))
"""


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def daphne_pid(port_url: str) -> int:
    port = port_url.rsplit(":", 1)[1]
    out = subprocess.run(["pgrep", "-f", f"daphne .* -p {port} "], capture_output=True, text=True)
    return int(out.stdout.split()[0])


async def client(
    url: str,
    expected: int,
    received: dict[int, float],
    ready: asyncio.Event,
    connected: list[int],
    done: asyncio.Event,
    gate: asyncio.Semaphore,
) -> None:
    async with gate:  # at most HANDSHAKES opening at once, as a ramp of real users would
        ws = await websockets.connect(url, open_timeout=60, max_queue=None)
    async with ws:
        connected.append(1)
        await ready.wait()
        count = 0
        async for raw in ws:  # no timeouts around recv(): a cancelled recv() may drop a frame
            message = json.loads(raw)
            if "id" in message:
                received[message["id"]] = time.time()
                count += 1
                if count >= expected:
                    return


async def connect_all(
    base: str,
    sessions: list[dict],
    per_client: int,
    received: dict,
    connected: list[int],
    ready: asyncio.Event,
    done: asyncio.Event,
) -> list[asyncio.Task]:
    ws_base = base.replace("http://", "ws://")
    gate = asyncio.Semaphore(HANDSHAKES)
    return [
        asyncio.create_task(
            client(
                f"{ws_base}/ws/notifications?ticket={s['ticket']}&resume=0",
                per_client,
                received,
                ready,
                connected,
                done,
                gate,
            )
        )
        for s in sessions
    ]


async def burst(env: dict, tmp: Path, sessions: list[dict], per_client: int, base: str) -> dict:
    received: dict[int, float] = {}
    connected: list[int] = []
    ready, done = asyncio.Event(), asyncio.Event()
    pid = daphne_pid(base)
    idle_kb = rss_kb(pid)
    t_connect = time.monotonic()
    tasks = await connect_all(base, sessions, per_client, received, connected, ready, done)
    while len(connected) < len(sessions):
        await asyncio.sleep(0.1)
        if time.monotonic() - t_connect > 120:
            raise RuntimeError(f"only {len(connected)} clients connected")
    connect_s = time.monotonic() - t_connect
    await asyncio.sleep(1.5)  # past any resume grace; sockets settled
    connected_kb = rss_kb(pid)
    ready.set()
    addresses, sent_file = tmp / "addresses.json", tmp / "sent.json"
    addresses.write_text(json.dumps([s["address"] for s in sessions]))
    code = WRITER.format(addresses=str(addresses), per_client=per_client, out=str(sent_file))
    t_burst = time.monotonic()
    writer = await asyncio.create_subprocess_exec(
        sys.executable, "manage.py", "shell", "-v0", "-c", code, cwd=ROOT, env=env
    )
    assert await writer.wait() == 0
    write_s = time.monotonic() - t_burst
    expected = len(sessions) * per_client
    deadline = time.monotonic() + 30
    while len(received) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    done.set()
    finished = [t for t in tasks if t.done()]
    for task in tasks:
        task.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    if os.environ.get("BENCH_DEBUG"):
        failed = [
            (i, repr(o))
            for i, o in enumerate(outcomes)
            if isinstance(o, BaseException) and tasks[i] in finished
        ]
        print("connect took", round(connect_s, 1), "s; clients that failed:", failed[:5])
    sent = dict(json.loads(sent_file.read_text()))
    missing = sorted(set(sent) - set(received))
    if missing and os.environ.get("BENCH_DEBUG"):
        order = list(sent)
        print("missing positions in the burst:", [order.index(i) for i in missing])
    latencies = sorted((received[i] - t0) * 1000 for i, t0 in sent.items() if i in received)
    return {
        "clients": len(sessions),
        "sent": len(sent),
        "received": len(received),
        "p50": statistics.median(latencies),
        "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)],
        "max": latencies[-1],
        "write_s": write_s,
        "connect_s": connect_s,
        "idle_mb": idle_kb / 1024,
        "connected_mb": connected_kb / 1024,
        "peak_mb": rss_kb(pid, "VmHWM") / 1024,
    }


def run(layer: str, clients: int, per_client: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(os.environ.get("BENCH_KEEP_DIR") or tmp_name)
        tmp.mkdir(parents=True, exist_ok=True)
        extra = {"WS_RESUME_GRACE_SECONDS": "0.5", "LOG_LEVEL": "WARNING"}
        if layer == "redis":
            extra["REDIS_URL"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        env = project_env(tmp, **extra)
        if layer == "embedded":
            env.pop("REDIS_URL", None)
        manage(env, "migrate", "-v0")
        with daphne(env, tmp / "daphne.log") as base:
            sessions = json.loads(manage(env, "shell", "-v0", "-c", SESSIONS.format(n=clients)))
            result = asyncio.run(burst(env, tmp, sessions, per_client, base))
        return {"layer": layer, **result}


def table(results: list[dict]) -> str:
    head = (
        "| layer | clients | notifications | received | p50 ms | p99 ms | max ms "
        "| burst written in s | daphne RSS idle / connected / peak MB |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = [
        f"| {r['layer']} | {r['clients']} | {r['sent']} | {r['received']} | {r['p50']:.1f} | "
        f"{r['p99']:.1f} | {r['max']:.1f} | {r['write_s']:.2f} | "
        f"{r['idle_mb']:.0f} / {r['connected_mb']:.0f} / {r['peak_mb']:.0f} |"
        for r in results
    ]
    return head + "\n".join(rows) + "\n"


def write_readme(text: str) -> None:
    body = README.read_text() if README.exists() else ""
    block = f"{MARKERS[0]}\n{text}{MARKERS[1]}"
    if MARKERS[0] in body:
        start, end = body.index(MARKERS[0]), body.index(MARKERS[1]) + len(MARKERS[1])
        body = body[:start] + block + body[end:]
    else:
        body += f"\n{block}\n"
    README.write_text(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--per-client", type=int, default=1)
    parser.add_argument("--layers", default="redis,embedded")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    results = [run(layer, args.clients, args.per_client) for layer in args.layers.split(",")]
    text = table(results)
    print(text)
    if args.write:
        write_readme(text)


if __name__ == "__main__":
    main()
