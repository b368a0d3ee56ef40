from __future__ import annotations

from typing import Any

from notifications.models import Notification


def notification_create(
    *,
    recipient: str,
    type: str,
    message: str,
    project_id: int | None = None,
    link: str = "",
    payload: dict[str, Any] | None = None,
) -> Notification:
    """Persist a notification for `recipient`. Call inside the caller's transaction: the row
    commits (or rolls back) with the change it reports."""
    return Notification.objects.create(
        recipient=recipient,
        type=type,
        message=message[:500],
        project_id=project_id,
        link=link,
        payload=payload or {},
    )
