"""End to end: a real web server process, a separate process creating notifications (as the indexer
would), and a real WebSocket client. Embedded run: the in-memory layer, so delivery across
processes goes through the database relay. CI's second run: real Redis (channels_redis)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time

import pytest
import websockets

from tests.accounts.signer import Wallet
from tests.processes import ROOT, manage, project_env, request, web_server

WRITER = """
import sys, time
from notifications.services import notification_create
address, count, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
for i in range(count):
    notification_create(recipient=address, type="payment_released", message=f"paid {i}")
    time.sleep(pause)
"""


@pytest.fixture
def server(tmp_path):
    # With Redis, delivery must come through channels_redis alone: the database relay is off.
    poll = "0" if os.environ.get("REDIS_URL") else "0.2"
    env = project_env(tmp_path, NOTIFICATIONS_DB_POLL_SECONDS=poll, WS_RESUME_GRACE_SECONDS="0.5")
    manage(env, "migrate", "-v0")
    with web_server(env, tmp_path / "web.log") as base:
        yield env, base


def sign_in(base: str, wallet: Wallet) -> str:
    status, challenge = request(f"{base}/api/auth/challenge", {"address": wallet.address})
    assert status == 200, challenge
    status, session = request(
        f"{base}/api/auth/verify",
        {
            "address": wallet.address,
            "signature": wallet.sign(challenge["challenge"]),
            "challenge": challenge["challenge"],
        },
    )
    assert status == 200, session
    return session["token"]


def ticket(base: str, token: str) -> str:
    status, body = request(f"{base}/api/auth/ws-ticket", {}, token=token)
    assert status == 200, body
    return body["ticket"]


def start_writer(env: dict[str, str], address: str, count: int, pause: float) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            f"import sys; sys.argv = ['w', {address!r}, '{count}', '{pause}']\n{WRITER}",
        ],
        cwd=ROOT,
        env=env,
    )


def ws_url(base: str, ticket_value: str, resume: int | None = None) -> str:
    url = base.replace("http://", "ws://") + f"/ws/notifications?ticket={ticket_value}"
    return url if resume is None else f"{url}&resume={resume}"


async def receive(ws, count: int, timeout: float) -> list[dict]:
    out: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(out) < count:
        message = json.loads(
            await asyncio.wait_for(ws.recv(), timeout=max(0.1, deadline - time.monotonic()))
        )
        if message.get("type") != "ping":
            out.append(message)
    return out


def test_notifications_from_another_process_reach_a_real_client(server):
    env, base = server
    wallet = Wallet.from_seed("e2e-live")
    token = sign_in(base, wallet)

    async def scenario() -> list[dict]:
        async with websockets.connect(ws_url(base, ticket(base, token), resume=0)) as ws:
            writer = start_writer(env, wallet.address, 5, 0.0)
            messages = await receive(ws, 5, timeout=30)
            assert writer.wait(timeout=30) == 0
            return messages

    messages = asyncio.run(scenario())
    assert [m["message"] for m in messages] == [f"paid {i}" for i in range(5)]
    assert all(m["type"] == "payment_released" for m in messages)
    ids = [m["id"] for m in messages]
    assert ids == sorted(ids)
    status, inbox = request(f"{base}/api/notifications?limit=10", token=token)
    assert [n["id"] for n in inbox["results"]] == sorted(ids, reverse=True)


def test_a_client_that_drops_mid_burst_and_resumes_gets_all_100_exactly_once(server):
    env, base = server
    wallet = Wallet.from_seed("e2e-resume")
    token = sign_in(base, wallet)

    async def scenario() -> list[int]:
        writer = start_writer(env, wallet.address, 100, 0.02)
        async with websockets.connect(ws_url(base, ticket(base, token), resume=0)) as ws:
            first = [m["id"] for m in await receive(ws, 20, timeout=30)]
        # disconnected: the burst goes on without us
        await asyncio.sleep(0.5)
        async with websockets.connect(ws_url(base, ticket(base, token))) as ws:
            await ws.send(json.dumps({"resume": first[-1]}))
            rest = [m["id"] for m in await receive(ws, 80, timeout=60)]
            with pytest.raises(TimeoutError):
                await receive(ws, 1, timeout=1.0)  # nothing more, no duplicate
        assert writer.wait(timeout=60) == 0
        return first + rest

    received = asyncio.run(scenario())
    assert len(received) == 100
    assert len(set(received)) == 100
    assert received == sorted(received)


def test_connect_without_ticket_is_refused(server):
    _, base = server

    async def scenario() -> None:
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with websockets.connect(ws_url(base, "forged")):
                pass
        assert refused.value.response.status_code == 403

    asyncio.run(scenario())


def test_logout_closes_a_live_socket(server):
    _, base = server
    wallet = Wallet.from_seed("e2e-logout")
    token = sign_in(base, wallet)

    async def scenario() -> int:
        async with websockets.connect(ws_url(base, ticket(base, token), resume=0)) as ws:
            status, _ = await asyncio.to_thread(request, f"{base}/api/auth/logout", {}, token)
            assert status == 204
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), timeout=10)
            return closed.value.rcvd.code

    assert asyncio.run(scenario()) == 4401
