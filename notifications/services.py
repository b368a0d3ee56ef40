"""Every write to notifications. Persist first, push after commit: the channel layer may drop a
message, the database may not (a client that missed one gets it on resume)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.utils import timezone

from notifications.events import (
    NOTIFICATION_CREATED,
    PREFERENCES_CHANGED,
    SESSION_REVOKED,
    notification_wire,
    session_group,
    user_group,
)
from notifications.models import Notification, NotificationPreference
from stxworx.errors import InvalidInput, NotFound
from stxworx.sql import rows_insert

logger = logging.getLogger(__name__)


def _group_send(group: str, event: dict[str, Any]) -> None:
    """Best effort: a failed push is logged, never raised (the row is already committed)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:
        logger.exception("push to %s failed; the client gets it on resume", group)


# The model's columns in its own order: the id, a draft's STORED fields, then the two times.
STORED = ["recipient", "type", "project_id", "message", "link", "payload"]
ATTNAMES = ["id", *STORED, "created_at", "read_at"]
assert [f.attname for f in Notification._meta.concrete_fields] == ATTNAMES


@dataclass(frozen=True)
class NotificationDraft:
    recipient: str
    type: str
    message: str
    project_id: int | None = None
    link: str = ""
    payload: dict[str, Any] | None = None

    def stored(self) -> tuple[Any, ...]:
        """The values of STORED as the row keeps them: the message cut to its column's 500
        characters, no payload {}."""
        message, payload = self.message[:500], self.payload or {}
        return (self.recipient, self.type, self.project_id, message, self.link, payload)

    def row(self) -> Notification:
        """The unsaved row."""
        return Notification(**dict(zip(STORED, self.stored(), strict=True)))

    def created(self, pk: int, created_at: datetime) -> Notification:
        """The row as stored with id `pk` (by `_rows_insert`), without a query: built from
        positional values (in ATTNAMES' order), as Django builds the rows it reads."""
        values = (pk, *self.stored(), created_at, None)  # read_at: None
        return Notification.from_db("default", ATTNAMES, values)


def _created_event(notification: Notification) -> tuple[str, dict[str, Any]]:
    """The push of a new notification: its recipient's group and the event."""
    event = {"type": NOTIFICATION_CREATED, "notification": notification_wire(notification)}
    return user_group(notification.recipient), event


def notification_create(
    *,
    recipient: str,
    type: str,
    message: str,
    project_id: int | None = None,
    link: str = "",
    payload: dict[str, Any] | None = None,
) -> Notification:
    """Persist a notification for `recipient` inside the caller's transaction (it commits or
    rolls back with the change it reports) and push it to the recipient's sockets after commit."""
    notification = NotificationDraft(recipient, type, message, project_id, link, payload).row()
    notification.save(force_insert=True)
    group, event = _created_event(notification)
    transaction.on_commit(lambda: _group_send(group, event))
    return notification


def notifications_create(*, drafts: list[NotificationDraft]) -> list[Notification]:
    """`notification_create` for many at once (the indexer's batches): a few multi-row INSERTs,
    and one push of them all after commit. The rows go to the database as parameter tuples
    (`_rows_insert`), not through bulk_create, which compiles every value of every row (most of
    the indexer's apply time went there); the returned rows, and the pushes, carry the ids the
    database gave them."""
    if not drafts:
        return []
    created_at = timezone.now()
    ids = _rows_insert(drafts, created_at)
    rows = [d.created(pk, created_at) for d, pk in zip(drafts, ids, strict=True)]
    sends = [_created_event(n) for n in rows]
    transaction.on_commit(lambda: _group_send_many(sends))
    return rows


# Drafts per INSERT: as many as bulk_create put in one (999 parameters, 7 per draft), so as
# many statements as before. 500 per statement held 2 MB more at the apply's peak (the driver
# caches its prepared statements) for no measurable gain.
INSERT_COLUMNS = (*STORED, "created_at")
INSERT_ROWS = 999 // len(INSERT_COLUMNS)


def _rows_insert(drafts: list[NotificationDraft], created_at: datetime) -> list[int]:
    """INSERT the drafts, INSERT_ROWS per statement (stxworx.sql.rows_insert), and return their
    ids in the drafts' order. All get the same `created_at` (auto_now_add, read once per call)."""
    payload_field = Notification._meta.get_field("payload")
    # Drafts about one event share its payload dict: prepared (JSON) once. Keyed by identity,
    # stable while the drafts hold them.
    payloads: dict[int, Any] = {}

    def payload(document: Any) -> Any:
        prepared = payloads.get(id(document))
        if prepared is None:
            prepared = payloads[id(document)] = payload_field.get_db_prep_save(document, connection)
        return prepared

    rows = [(*d.stored(), created_at) for d in drafts]
    return rows_insert(
        Notification,
        list(INSERT_COLUMNS),
        rows,
        update=None,
        returning=True,
        per_statement=INSERT_ROWS,
        prepare={"payload": payload},
    )


def _group_send_many(sends: list[tuple[str, dict[str, Any]]]) -> None:
    """`_group_send` for many, in one event loop."""
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all() -> None:
        for group, event in sends:
            try:
                await layer.group_send(group, event)
            except Exception:
                logger.exception("push to %s failed; the client gets it on resume", group)

    try:
        async_to_sync(send_all)()
    except Exception:  # e.g. called on a thread with a running loop: the rows are committed
        logger.exception("push of %d notifications failed; clients get them on resume", len(sends))


def notification_mark_read(*, notification_id: int, recipient: str) -> Notification:
    """Mark one of `recipient`'s notifications read (idempotent); another user's is a 404."""
    notification = Notification.objects.filter(pk=notification_id, recipient=recipient).first()
    if notification is None:
        raise NotFound(f"Notification {notification_id} does not exist.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notification_mark_all_read(*, recipient: str) -> int:
    return Notification.objects.filter(recipient=recipient, read_at__isnull=True).update(
        read_at=timezone.now()
    )


@transaction.atomic
def preferences_update(*, recipient: str, enabled: dict[str, bool]) -> NotificationPreference:
    """Turn types on or off for the live stream. Money and dispute types cannot be turned off."""
    unknown = sorted(set(enabled) - set(Notification.Type.values))
    if unknown:
        raise InvalidInput(f"Unknown notification type {unknown[0]}.", field="types")
    forced = sorted(t for t, on in enabled.items() if not on and t in Notification.MANDATORY_TYPES)
    if forced:
        raise InvalidInput(f"{forced[0]} notifications cannot be turned off.", field="types")
    prefs, _ = NotificationPreference.objects.select_for_update().get_or_create(recipient=recipient)
    muted = set(prefs.muted_types)
    muted |= {t for t, on in enabled.items() if not on}
    muted -= {t for t, on in enabled.items() if on}
    prefs.muted_types = sorted(muted)
    prefs.save(update_fields=["muted_types", "updated_at"])
    event = {"type": PREFERENCES_CHANGED, "muted": prefs.muted_types}
    transaction.on_commit(lambda: _group_send(user_group(recipient), event))
    return prefs


def session_revoked_push(*, jti: str) -> None:
    """Close the sockets opened with this session (called after its token is revoked)."""
    transaction.on_commit(lambda: _group_send(session_group(jti), {"type": SESSION_REVOKED}))
