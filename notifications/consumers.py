"""The notification stream. Thin: authenticate at connect, join the user's groups, forward
events, call services and selectors through database_sync_to_async.

Protocol (JSON text frames):
- connect to /ws/notifications?ticket=<POST /api/auth/ws-ticket> (optionally &resume=<lastId>);
  without a valid ticket the server closes with 4401 before accepting.
- server -> client: {id, type, projectId, message, link, timestamp} per notification, in id order,
  once each; {"type": "ping", "timestamp"} every 25 s; {"type": "error", "message"} on bad input.
- client -> server: {"resume": lastId} replays every notification after lastId, then live ones
  (live ones that arrive before the resume are held until it, or for a short grace period);
  {"ack": id} marks one read.
- the socket closes with 4401 when the session that opened it is revoked (logout).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from accounts.auth import ws_ticket_redeem
from accounts.tokens import token_is_revoked
from notifications import relay, selectors, services
from notifications.events import SESSION_REVOKED, notification_wire, session_group, user_group
from stxworx.errors import ApplicationError

CLOSE_UNAUTHORIZED = 4401
REPLAY_BATCH = 500
SENT_MEMORY = 5000


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    address: str
    jti: str

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        record = await database_sync_to_async(ws_ticket_redeem)(ticket=query.get("ticket", [""])[0])
        if record is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.address, self.jti = record.user.address, record.jti
        self.sent: OrderedDict[int, None] = OrderedDict()
        self.held: list[dict[str, Any]] = []
        self.ready = self.resuming = False
        self.muted = await database_sync_to_async(selectors.muted_types)(recipient=self.address)
        self.joined = [user_group(self.address), session_group(self.jti)]
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        self.relayed: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        relay.register(address=self.address, jti=self.jti, listener=self)
        relay.ensure_started()
        self.tasks = [asyncio.create_task(self._pinger()), asyncio.create_task(self._drain())]
        resume = _int(query.get("resume", [None])[0])
        if resume is not None:
            await self._resume(resume)
        else:
            self.tasks.append(asyncio.create_task(self._release_after_grace()))

    async def disconnect(self, code: int) -> None:
        for task in getattr(self, "tasks", []):
            task.cancel()
        if hasattr(self, "joined"):
            relay.unregister(address=self.address, jti=self.jti, listener=self)
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    # --- client -> server ----------------------------------------------------------------

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self._error('Send a JSON object: {"resume": lastId} or {"ack": id}.')
        elif "resume" in content:
            last_id = _int(content["resume"])
            if last_id is None:
                await self._error("resume takes the last notification id received (an integer).")
            else:
                await self._resume(last_id)
        elif "ack" in content:
            await self._ack(content["ack"])
        else:
            await self._error('Unknown message; send {"resume": lastId} or {"ack": id}.')

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self._error("Send JSON text frames, not binary ones.")
            return
        await super().receive(text_data=text_data)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """A handler that fails still leaves the process clean (relay entry, tasks, groups)."""
        try:
            await super().dispatch(message)
        except Exception:
            await self.disconnect(1011)
            raise

    async def decode_json(self, text_data: str) -> Any:
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

    async def _resume(self, last_id: int) -> None:
        self.resuming = True
        while True:
            rows = await database_sync_to_async(selectors.notifications_after)(
                recipient=self.address, after=last_id, muted=self.muted, limit=REPLAY_BATCH
            )
            for row in rows:
                await self._deliver(notification_wire(row))
            if len(rows) < REPLAY_BATCH:
                break
            last_id = rows[-1].pk
        self.resuming = False
        await self._release()

    async def _ack(self, value: Any) -> None:
        notification_id = _int(value)
        if notification_id is None:
            await self._error("ack takes a notification id (an integer).")
            return
        try:
            await database_sync_to_async(services.notification_mark_read)(
                notification_id=notification_id, recipient=self.address
            )
        except ApplicationError as exc:
            await self._error(exc.message)

    # --- channel layer -> client ---------------------------------------------------------

    async def notification_created(self, event: dict[str, Any]) -> None:
        wire = event["notification"]
        if wire["type"] in self.muted:
            return
        if self.ready and not self.resuming and not self.held:
            await self._deliver(wire)
        else:
            self.held.append(wire)  # behind a replay, or behind what is being released

    # --- the database relay -> client (same process, no channel layer) --------------------

    def relay_event(self, event: dict[str, Any]) -> None:
        self.relayed.put_nowait(event)

    async def _drain(self) -> None:
        while True:
            event = await self.relayed.get()
            if event["type"] == SESSION_REVOKED:
                await self.session_revoked(event)
                return
            await self.notification_created(event)

    async def preferences_changed(self, event: dict[str, Any]) -> None:
        self.muted = frozenset(event["muted"])

    async def session_revoked(self, event: dict[str, Any]) -> None:
        await self.close(code=CLOSE_UNAUTHORIZED)

    # --- helpers -------------------------------------------------------------------------

    async def _deliver(self, wire: dict[str, Any]) -> None:
        """Send each notification once: the replay, the live push and the database relay may
        all carry the same one."""
        if wire["id"] in self.sent:
            return
        self.sent[wire["id"]] = None
        if len(self.sent) > SENT_MEMORY:
            self.sent.popitem(last=False)
        await self.send_json(wire)

    async def _release(self) -> None:
        self.ready = True
        while self.held:  # what arrives meanwhile queues here too, so order holds
            self.held.sort(key=lambda w: w["id"])
            await self._deliver(self.held.pop(0))

    async def _release_after_grace(self) -> None:
        await asyncio.sleep(_conf("RESUME_GRACE_SECONDS"))
        if not self.ready and not self.resuming:
            await self._release()

    async def _pinger(self) -> None:
        while True:
            await asyncio.sleep(_conf("PING_SECONDS"))
            if await database_sync_to_async(token_is_revoked)(self.jti):
                await self.close(code=CLOSE_UNAUTHORIZED)
                return
            await self.send_json({"type": "ping", "timestamp": int(time.time() * 1000)})

    async def _error(self, message: str) -> None:
        await self.send_json({"type": "error", "message": message})


def _conf(key: str) -> float:
    return float(settings.NOTIFICATIONS[key])


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None
