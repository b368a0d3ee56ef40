from __future__ import annotations

from django.db.models import QuerySet

from notifications.models import Notification, NotificationPreference


def notification_list(
    *, recipient: str, unread: bool = False, before: int | None = None
) -> QuerySet[Notification]:
    """`recipient`'s notifications, newest first; `before` is the cursor (an id)."""
    qs = Notification.objects.filter(recipient=recipient)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    if before is not None:
        qs = qs.filter(pk__lt=before)
    return qs.order_by("-pk")


def notification_unread_count(*, recipient: str) -> int:
    return Notification.objects.filter(recipient=recipient, read_at__isnull=True).count()


def notifications_after(
    *, recipient: str, after: int, muted: frozenset[str] = frozenset(), limit: int = 500
) -> list[Notification]:
    """The stream's replay: `recipient`'s notifications with id > `after`, oldest first."""
    qs = Notification.objects.filter(recipient=recipient, pk__gt=after)
    if muted:
        qs = qs.exclude(type__in=muted)
    return list(qs.order_by("pk")[:limit])


def muted_types(*, recipient: str) -> frozenset[str]:
    prefs = NotificationPreference.objects.filter(recipient=recipient).first()
    return frozenset(prefs.muted_types) if prefs else frozenset()


def preferences_get(*, recipient: str) -> dict[str, dict[str, bool]]:
    muted = muted_types(recipient=recipient)
    return {
        t: {"enabled": t not in muted, "mandatory": t in Notification.MANDATORY_TYPES}
        for t in Notification.Type.values
    }
