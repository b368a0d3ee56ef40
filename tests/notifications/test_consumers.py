"""The stream through Channels' communicator, on the configured channel layer (in-memory in the
embedded run, Redis in CI's second run)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import override_settings

from accounts.auth import sign_out, ws_ticket_issue
from accounts.tokens import token_decode, token_issue
from notifications.models import Notification
from notifications.services import notification_create, preferences_update
from stxworx.asgi import application
from tests.factories import UserFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

QUIET = {"PING_SECONDS": 60, "RESUME_GRACE_SECONDS": 0.2, "DB_POLL_SECONDS": 0}


@pytest.fixture(autouse=True)
def _quiet_stream():
    with override_settings(NOTIFICATIONS=QUIET):
        yield


class Communicator(WebsocketCommunicator):
    """A communicator the test's teardown disconnects, as a browser tab closing would."""

    opened: list[Communicator] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.opened.append(self)


@pytest_asyncio.fixture(autouse=True)
async def _close_worker_connections():
    """End every consumer while the test's loop still runs: one left waiting on the Redis layer
    (a refused socket included) would be cancelled in the loop's teardown, which can hang there.
    Then close the database_sync_to_async threads' persistent connections (CONN_MAX_AGE) so the
    test database can be dropped."""
    yield
    while Communicator.opened:
        communicator = Communicator.opened.pop()
        with contextlib.suppress(Exception):
            await communicator.disconnect(timeout=3)
    await database_sync_to_async(connections.close_all)()


@database_sync_to_async
def session() -> tuple[str, str, str]:
    """A user, their token's jti, and a fresh WebSocket ticket: (address, jti, ticket)."""
    user = UserFactory()
    _, claims = token_issue(user=user)
    ticket, _ = ws_ticket_issue(user=user, claims=claims)
    return user.address, claims.jti, ticket


@database_sync_to_async
def new_ticket(address: str, jti: str) -> str:
    from django.utils import timezone

    from accounts.models import User
    from accounts.tokens import TokenClaims

    claims = TokenClaims(address=address, jti=jti, expires_at=timezone.now())
    return ws_ticket_issue(user=User.objects.get(address=address), claims=claims)[0]


@database_sync_to_async
def notify(address: str, n: int = 1, type: str = "proposal_received") -> list[int]:
    return [notification_create(recipient=address, type=type, message=f"m{i}").pk for i in range(n)]


async def connect(path: str) -> WebsocketCommunicator:
    ws = Communicator(application, path)
    connected, code = await ws.connect()
    assert connected, code
    return ws


async def receive_ids(ws: WebsocketCommunicator, n: int) -> list[int]:
    return [(await ws.receive_json_from(timeout=3))["id"] for _ in range(n)]


@pytest.mark.parametrize("query", ["", "?ticket=", "?ticket=forged", "?ticket=" + "x" * 300])
async def test_no_valid_ticket_is_closed_with_4401_before_accept(query):
    ws = Communicator(application, f"/ws/notifications{query}")
    assert await ws.connect() == (False, 4401)


async def test_a_ticket_works_once():
    _, _, ticket = await session()
    ws = await connect(f"/ws/notifications?ticket={ticket}")
    await ws.disconnect()
    again = Communicator(application, f"/ws/notifications?ticket={ticket}")
    assert await again.connect() == (False, 4401)


@pytest.mark.parametrize("path", ["/ws/notifications", "/notifications"])
async def test_live_notification_reaches_every_tab_of_the_user(path):
    address, jti, ticket = await session()
    tab1 = await connect(f"{path}?ticket={ticket}&resume=0")
    tab2 = await connect(f"{path}?ticket={await new_ticket(address, jti)}&resume=0")
    other_address, _, other_ticket = await session()
    other = await connect(f"{path}?ticket={other_ticket}&resume=0")
    (note_id,) = await notify(address)
    for tab in (tab1, tab2):
        message = await tab.receive_json_from(timeout=3)
        assert set(message) == {"id", "type", "projectId", "message", "link", "timestamp"}
        assert message["id"] == note_id and message["type"] == "proposal_received"
    assert await other.receive_nothing(timeout=0.3)
    for ws in (tab1, tab2, other):
        await ws.disconnect()


async def test_resume_replays_missed_notifications_in_order_then_live_once_each():
    address, jti, ticket = await session()
    missed = await notify(address, 5)
    ws = await connect(f"/ws/notifications?ticket={ticket}")
    live_early = await notify(address, 2)  # arrives before the client says where it was
    await ws.send_json_to({"resume": missed[1]})
    assert await receive_ids(ws, 5) == missed[2:] + live_early
    live = await notify(address, 2)
    assert await receive_ids(ws, 2) == live
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()


async def test_without_resume_live_ones_flow_after_the_grace_period():
    address, _, ticket = await session()
    ws = await connect(f"/ws/notifications?ticket={ticket}")
    ids = await notify(address, 3)
    assert await receive_ids(ws, 3) == ids
    await ws.disconnect()


async def test_ack_marks_read_and_bad_messages_get_an_error():
    address, _, ticket = await session()
    (note_id,) = await notify(address)
    ws = await connect(f"/ws/notifications?ticket={ticket}&resume=0")
    await ws.receive_json_from(timeout=3)
    await ws.send_json_to({"ack": note_id})
    await ws.send_json_to({"hello": 1})
    assert (await ws.receive_json_from(timeout=3))["type"] == "error"
    note = await database_sync_to_async(Notification.objects.get)(pk=note_id)
    assert note.read_at is not None
    for bad in ({"resume": "x"}, {"ack": -1}, [1, 2], {"ack": 10**9}):
        await ws.send_json_to(bad)
        assert (await ws.receive_json_from(timeout=3))["type"] == "error"
    await ws.send_to(text_data="not json")
    assert (await ws.receive_json_from(timeout=3))["type"] == "error"
    await ws.disconnect()


async def test_cannot_ack_someone_elses_notification():
    address, _, ticket = await session()
    other, _, _ = await session()
    (theirs,) = await notify(other)
    ws = await connect(f"/ws/notifications?ticket={ticket}&resume=0")
    await ws.send_json_to({"ack": theirs})
    assert (await ws.receive_json_from(timeout=3))["type"] == "error"
    note = await database_sync_to_async(Notification.objects.get)(pk=theirs)
    assert note.read_at is None
    await ws.disconnect()


async def test_muted_types_are_not_streamed_but_money_always_is():
    address, _, ticket = await session()
    await database_sync_to_async(preferences_update)(
        recipient=address, enabled={"proposal_received": False}
    )
    ws = await connect(f"/ws/notifications?ticket={ticket}&resume=0")
    await notify(address, 1, "proposal_received")
    (paid,) = await notify(address, 1, "payment_released")
    assert await receive_ids(ws, 1) == [paid]
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()


async def test_logout_closes_the_sockets_of_that_session():
    address, jti, ticket = await session()
    ws = await connect(f"/ws/notifications?ticket={ticket}&resume=0")
    claims = token_decode(token_issue_for_jti(address, jti))
    await database_sync_to_async(sign_out)(claims=claims)
    assert await ws.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}


def token_issue_for_jti(address: str, jti: str) -> str:
    import jwt

    conf = settings.AUTH
    import time

    now = int(time.time())
    return jwt.encode(
        {
            "iss": conf["JWT_ISSUER"],
            "aud": conf["JWT_AUDIENCE"],
            "sub": address,
            "iat": now,
            "exp": now + 60,
            "jti": jti,
        },
        conf["JWT_SIGNING_KEY"],
        algorithm="HS256",
    )


async def test_server_pings_and_notices_revocation_on_its_own():
    address, jti, ticket = await session()
    with override_settings(NOTIFICATIONS={**QUIET, "PING_SECONDS": 0.2}):
        ws = await connect(f"/ws/notifications?ticket={ticket}&resume=0")
        ping = await ws.receive_json_from(timeout=3)
        assert ping["type"] == "ping" and isinstance(ping["timestamp"], int)
        # a revocation written by another process, with no push at all
        from django.utils import timezone

        from accounts.models import RevokedToken

        await database_sync_to_async(RevokedToken.objects.create)(
            jti=jti, expires_at=timezone.now()
        )
        while True:
            out = await ws.receive_output(timeout=3)
            if out["type"] == "websocket.close":
                assert out["code"] == 4401
                break


async def test_relay_delivers_rows_written_by_another_process():
    address, _, ticket = await session()
    with override_settings(NOTIFICATIONS={**QUIET, "DB_POLL_SECONDS": 0.1}):
        ws = await connect(f"/ws/notifications?ticket={ticket}&resume=0")
        await asyncio.sleep(0.3)  # the relay has taken its starting point
        # no on_commit push: as if another process, without Redis, wrote the row
        row = await database_sync_to_async(Notification.objects.create)(
            recipient=address, type="payment_released", message="paid"
        )
        assert await receive_ids(ws, 1) == [row.pk]
        await ws.disconnect()


@pytest.mark.asyncio(loop_scope="function")
async def test_redis_read_timeout_outlasts_the_channel_layer_block():
    """Regression: with redis-py's default 5 s read timeout, consumers blocked 5 s in BZPOPMIN
    died under load (bench: 2 of 1,000 sockets closed with 1011)."""
    layer = settings.CHANNEL_LAYERS["default"]
    if not layer["BACKEND"].startswith("channels_redis"):
        pytest.skip("embedded setup: no Redis")
    from channels_redis.core import RedisChannelLayer

    (host,) = layer["CONFIG"]["hosts"]
    assert host["socket_timeout"] > RedisChannelLayer.brpop_timeout * 2


async def test_binary_frames_get_an_error_and_the_socket_stays_open():
    from notifications import relay

    address, _, ticket = await session()
    ws = await connect(f"/ws/notifications?ticket={ticket}&resume=0")
    await ws.send_to(bytes_data=b"\x00\x01")
    assert (await ws.receive_json_from(timeout=3))["type"] == "error"
    (note_id,) = await notify(address)
    assert await receive_ids(ws, 1) == [note_id]
    assert address in relay._by_address
    await ws.disconnect()
    assert address not in relay._by_address  # nothing left behind
