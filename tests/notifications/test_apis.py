from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from notifications.services import notification_create
from tests.factories import make_address
from tests.projects.test_apis import assert_error

pytestmark = pytest.mark.django_db


def notify(recipient: str, n: int = 1, type: str = "proposal_received") -> list[Notification]:
    return [
        notification_create(recipient=recipient, type=type, message=f"m{i}", link=f"/x/{i}")
        for i in range(n)
    ]


def test_inbox_lists_newest_first_with_cursor_pagination(client_for, user):
    rows = notify(user.address, 25)
    notify(make_address(), 3)  # someone else's
    api = client_for(user)
    first = api.get("/api/notifications?limit=10").json()
    assert [n["id"] for n in first["results"]] == [r.pk for r in reversed(rows)][:10]
    item = first["results"][0]
    assert set(item) == {"id", "type", "projectId", "message", "link", "timestamp", "read"}
    assert item["read"] is False and isinstance(item["timestamp"], int)
    assert item["timestamp"] == int(rows[-1].created_at.timestamp() * 1000)
    seen = [n["id"] for n in first["results"]]
    cursor = first["nextCursor"]
    while cursor:
        page = api.get(f"/api/notifications?limit=10&cursor={cursor}").json()
        seen += [n["id"] for n in page["results"]]
        cursor = page["nextCursor"]
    assert seen == [r.pk for r in reversed(rows)]
    assert first["next"].endswith(f"cursor={first['nextCursor']}")


def test_unread_filter_count_read_and_read_all(client_for, user):
    a, b, c = notify(user.address, 3)
    api = client_for(user)
    assert api.get("/api/notifications/unread-count").json() == {"count": 3}
    response = api.put(f"/api/notifications/{b.pk}/read")
    assert response.status_code == 200 and response.json()["read"] is True
    assert api.put(f"/api/notifications/{b.pk}/read").status_code == 200  # idempotent
    unread = api.get("/api/notifications?unread=true").json()["results"]
    assert [n["id"] for n in unread] == [c.pk, a.pk]
    assert api.get("/api/notifications/unread-count").json() == {"count": 2}
    assert api.put("/api/notifications/read-all").json() == {"updated": 2}
    assert api.get("/api/notifications/unread-count").json() == {"count": 0}


def test_only_the_recipient_sees_or_changes_a_notification(client_for, anon, user):
    (note,) = notify(user.address)
    other = client_for(make_address())
    assert_error(other.put(f"/api/notifications/{note.pk}/read"), 404, "not_found")
    assert other.get("/api/notifications").json()["results"] == []
    assert other.put("/api/notifications/read-all").json() == {"updated": 0}
    note.refresh_from_db()
    assert note.read_at is None
    for method, url in [
        ("get", "/api/notifications"),
        ("get", "/api/notifications/unread-count"),
        ("put", "/api/notifications/read-all"),
        ("put", f"/api/notifications/{note.pk}/read"),
        ("get", "/api/notifications/preferences"),
        ("put", "/api/notifications/preferences"),
    ]:
        assert_error(getattr(anon, method)(url), 401)


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "cursor=-1", "unread=maybe"])
def test_inbox_bad_query(client_for, user, query):
    assert_error(client_for(user).get(f"/api/notifications?{query}"), 400, "validation_error")


@pytest.mark.parametrize("limit", [1, 10, 50])
def test_inbox_runs_a_fixed_number_of_queries(client_for, user, limit):
    notify(user.address, 60)
    api = client_for(user)
    with CaptureQueriesContext(connection) as queries:
        assert len(api.get(f"/api/notifications?limit={limit}").json()["results"]) == limit
    assert len(queries) == 1


def test_preferences(client_for, user):
    api = client_for(user)
    prefs = api.get("/api/notifications/preferences").json()["types"]
    assert set(prefs) == set(Notification.Type.values)
    assert prefs["payment_released"] == {"enabled": True, "mandatory": True}
    assert prefs["proposal_received"] == {"enabled": True, "mandatory": False}
    response = api.put(
        "/api/notifications/preferences", {"types": {"proposal_received": False}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["types"]["proposal_received"]["enabled"] is False
    back_on = api.put(
        "/api/notifications/preferences", {"types": {"proposal_received": True}}, format="json"
    )
    assert back_on.json()["types"]["proposal_received"]["enabled"] is True


@pytest.mark.parametrize(
    ("types", "status"),
    [
        ({"payment_released": False}, 422),  # rules past the schema
        ({"dispute_filed": False}, 422),
        ({"nope": False}, 422),
        ({}, 400),  # the schema says no
        ("all", 400),
    ],
)
def test_preferences_refuse_mandatory_or_unknown_types(client_for, user, types, status):
    response = client_for(user).put(
        "/api/notifications/preferences", {"types": types}, format="json"
    )
    code = "unprocessable" if status == 422 else "validation_error"
    assert_error(response, status, code, "types")


def test_push_happens_after_commit_only(django_capture_on_commit_callbacks, user):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(user.address)
    assert len(callbacks) == 1
    assert Notification.objects.count() == 1


def test_error_details_keep_the_clients_own_keys(client_for, user):
    response = client_for(user).put(
        "/api/notifications/preferences", {"types": {"proposal_received": None}}, format="json"
    )
    error = assert_error(response, 400, "validation_error", "types")
    assert "proposal_received" in error["details"]["types"]
