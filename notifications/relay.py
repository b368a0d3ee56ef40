"""Delivery from the database, per web process.

A push after commit (notifications.services) is the fast path: with REDIS_URL it crosses
processes through channels_redis; without it, the in-memory layer reaches only the process that
wrote the row. Either way the channel layer may drop a message. So each web process also runs
one relay: every `DB_POLL_SECONDS` (1 s embedded, a slower backstop with Redis) it asks the
database for notification rows and revoked sessions newer than the last it saw — one indexed
query per process, however many sockets are open — and hands those that concern sockets open in
this process to them directly (no channel layer: a backstop must not double the Redis traffic).
Consumers drop what they already sent, so a row arriving both ways is delivered once.

Limit: a row whose id is lower than one already seen but that commits later (two writers racing)
is not relayed; a client gets it on its next resume.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any, Protocol

from channels.db import database_sync_to_async
from django.conf import settings
from django.db.models import Max

from accounts.models import RevokedToken
from notifications.events import NOTIFICATION_CREATED, SESSION_REVOKED, notification_wire
from notifications.models import Notification

logger = logging.getLogger(__name__)
BATCH = 1000

_task: asyncio.Task | None = None


class Listener(Protocol):
    """A socket of this process (the consumer): takes events without awaiting."""

    def relay_event(self, event: dict[str, Any]) -> None: ...


_by_address: dict[str, set[Listener]] = defaultdict(set)
_by_session: dict[str, set[Listener]] = defaultdict(set)


def register(*, address: str, jti: str, listener: Listener) -> None:
    _by_address[address].add(listener)
    _by_session[jti].add(listener)


def unregister(*, address: str, jti: str, listener: Listener) -> None:
    for index, key in ((_by_address, address), (_by_session, jti)):
        index[key].discard(listener)
        if not index[key]:
            del index[key]


def ensure_started() -> None:
    """Start this process's relay once (on the running loop), unless it is switched off."""
    global _task
    interval = float(settings.NOTIFICATIONS["DB_POLL_SECONDS"])
    loop = asyncio.get_running_loop()
    if interval <= 0 or (_task is not None and not _task.done() and _task.get_loop() is loop):
        return
    _task = loop.create_task(_run(interval))


def _high_water() -> tuple[int, int]:
    return (
        Notification.objects.aggregate(m=Max("pk"))["m"] or 0,
        RevokedToken.objects.aggregate(m=Max("pk"))["m"] or 0,
    )


def _newer(last_notification: int, last_revoked: int) -> tuple[list[Notification], list[Any]]:
    notes = list(Notification.objects.filter(pk__gt=last_notification).order_by("pk")[:BATCH])
    revoked = list(
        RevokedToken.objects.filter(pk__gt=last_revoked).order_by("pk").values_list("pk", "jti")
    )
    return notes, revoked


def _hand(listeners: set[Listener] | None, event: dict[str, Any]) -> None:
    for listener in list(listeners or ()):
        listener.relay_event(event)


async def _run(interval: float) -> None:
    last_notification, last_revoked = await database_sync_to_async(_high_water)()
    while True:
        await asyncio.sleep(interval)
        try:
            notes, revoked = await database_sync_to_async(_newer)(last_notification, last_revoked)
            for note in notes:
                event = {"type": NOTIFICATION_CREATED, "notification": notification_wire(note)}
                _hand(_by_address.get(note.recipient), event)
                last_notification = note.pk
            for pk, jti in revoked:
                _hand(_by_session.get(jti), {"type": SESSION_REVOKED})
                last_revoked = pk
        except Exception:
            logger.exception("notification relay poll failed; retrying")
