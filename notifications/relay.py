"""Delivery across processes without Redis.

With REDIS_URL set, channels_redis carries a push from any process (the indexer, a task worker,
another daphne) to the sockets. Without it (the embedded setup) the in-memory channel layer
reaches only the process that wrote the row, so each daphne process runs one relay: every
`DB_POLL_SECONDS` it asks the database for notification rows (and revoked sessions) newer than the
last it saw — one indexed query per process, however many sockets are open — and pushes them to
its local groups. Consumers drop what they already sent, so a row pushed both ways arrives once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.db.models import Max

from accounts.models import RevokedToken
from notifications.events import (
    NOTIFICATION_CREATED,
    SESSION_REVOKED,
    notification_wire,
    session_group,
    user_group,
)
from notifications.models import Notification

logger = logging.getLogger(__name__)
BATCH = 1000

_task: asyncio.Task | None = None


def ensure_started(layer: Any) -> None:
    """Start this process's relay once (on the running loop), when the setup needs one."""
    global _task
    interval = float(settings.NOTIFICATIONS["DB_POLL_SECONDS"])
    loop = asyncio.get_running_loop()
    if interval <= 0 or (_task is not None and not _task.done() and _task.get_loop() is loop):
        return
    _task = loop.create_task(_run(layer, interval))


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


async def _run(layer: Any, interval: float) -> None:
    last_notification, last_revoked = await database_sync_to_async(_high_water)()
    while True:
        await asyncio.sleep(interval)
        try:
            notes, revoked = await database_sync_to_async(_newer)(last_notification, last_revoked)
        except Exception:
            logger.exception("notification relay poll failed; retrying")
            continue
        for note in notes:
            event = {"type": NOTIFICATION_CREATED, "notification": notification_wire(note)}
            await layer.group_send(user_group(note.recipient), event)
            last_notification = note.pk
        for pk, jti in revoked:
            await layer.group_send(session_group(jti), {"type": SESSION_REVOKED})
            last_revoked = pk
