"""What travels on the channel layer and the WebSocket, in one place."""

from __future__ import annotations

from typing import Any

from notifications.models import Notification

NOTIFICATION_CREATED = "notification.created"
SESSION_REVOKED = "session.revoked"
PREFERENCES_CHANGED = "preferences.changed"


def project_link(project_id: int) -> str:
    """Where the React app shows a project: the `link` of notifications about it."""
    return f"/projects/{project_id}"


def user_group(address: str) -> str:
    return f"notify.{address}"


def session_group(jti: str) -> str:
    return f"session.{jti}"


def timestamp_ms(notification: Notification) -> int:
    return int(notification.created_at.timestamp() * 1000)


def notification_wire(notification: Notification) -> dict[str, Any]:
    """The seed's NotificationEvent {type, projectId, message, link, timestamp} plus `id`; the
    REST inbox items add `read`."""
    return {
        "id": notification.pk,
        "type": notification.type,
        "projectId": notification.project_id,
        "message": notification.message,
        "link": notification.link,
        "timestamp": timestamp_ms(notification),
    }
