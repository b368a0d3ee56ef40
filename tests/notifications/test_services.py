"""notifications_create, the indexer's way of writing many notifications at once: its rows are
those notification_create (one at a time, through the ORM) writes, and what it pushes after
commit carries the ids the database gave them."""

from __future__ import annotations

from typing import Any

import pytest

from notifications import services
from notifications.events import NOTIFICATION_CREATED, notification_wire, user_group
from notifications.models import Notification
from notifications.services import (
    INSERT_ROWS,
    NotificationDraft,
    notification_create,
    notifications_create,
)
from tests.factories import ProjectFactory, make_address

pytestmark = pytest.mark.django_db

STORED = ("recipient", "type", "project_id", "message", "link", "payload", "read_at")


class Layer:
    """A channel layer that keeps what is sent to it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def group_send(self, group: str, event: dict[str, Any]) -> None:
        self.sent.append((group, event))


@pytest.fixture
def layer(monkeypatch: pytest.MonkeyPatch) -> Layer:
    layer = Layer()
    monkeypatch.setattr(services, "get_channel_layer", lambda: layer)
    return layer


def drafts(n: int) -> list[NotificationDraft]:
    """Every shape a draft takes: with and without a project and a payload, a message over its
    column's 500 characters."""
    project = ProjectFactory()
    people = [make_address(f"r{i}") for i in range(3)]
    return [
        NotificationDraft(
            people[i % 3],
            Notification.Type.PAYMENT_RELEASED if i % 2 else Notification.Type.DISPUTE_FILED,
            f"message {i} " + "x" * (600 if i % 7 == 0 else 0),
            project.pk if i % 4 else None,
            f"/projects/{project.pk}" if i % 4 else "",
            {"txId": f"0x{i:064x}", "event": "milestone-released"} if i % 5 else None,
        )
        for i in range(n)
    ]


def stored(rows: Any) -> list[tuple[Any, ...]]:
    return [tuple(getattr(row, name) for name in STORED) for row in rows]


def test_many_drafts_are_stored_as_one_at_a_time_would_store_them(
    layer: Layer, django_capture_on_commit_callbacks: Any
) -> None:
    # given: more drafts than one INSERT takes, twice over
    given = drafts(2 * INSERT_ROWS + 17)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        created = notifications_create(drafts=given)
    # then: the same rows as notification_create writes, in the drafts' order
    rows = list(Notification.objects.order_by("id"))
    assert [n.pk for n in created] == [n.pk for n in rows]
    Notification.objects.all().delete()
    for d in given:
        notification_create(
            recipient=d.recipient,
            type=d.type,
            message=d.message,
            project_id=d.project_id,
            link=d.link,
            payload=d.payload,
        )
    assert stored(rows) == stored(Notification.objects.order_by("id"))
    assert stored(created) == stored(rows)
    assert all(n.created_at == rows[0].created_at for n in rows)


def test_what_is_pushed_after_commit_names_the_stored_rows(
    layer: Layer, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    given = drafts(INSERT_ROWS + 3)
    # when: nothing is pushed before the commit
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notifications_create(drafts=given)
        assert layer.sent == []
    # then: one push per row, to its recipient's group, as the stored row reads on the wire
    assert len(callbacks) == 1
    rows = Notification.objects.order_by("id")
    assert layer.sent == [
        (
            user_group(n.recipient),
            {"type": NOTIFICATION_CREATED, "notification": notification_wire(n)},
        )
        for n in rows
    ]


def test_no_drafts_write_and_push_nothing(
    layer: Layer, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert notifications_create(drafts=[]) == []
    assert callbacks == [] and not Notification.objects.exists()


def test_a_push_that_cannot_run_is_logged_and_the_rows_stay(
    layer: Layer, django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The push runs after commit; when it cannot run at all (here: on a thread whose event
    loop is running, where async_to_sync refuses), it is logged, never raised into the caller
    whose rows are already committed."""
    import asyncio

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notifications_create(drafts=drafts(2))

    async def commit_hook_in_a_running_loop() -> None:
        callbacks[0]()

    asyncio.run(commit_hook_in_a_running_loop())
    assert layer.sent == [] and Notification.objects.count() == 2
    assert "push of 2 notifications failed" in caplog.text
