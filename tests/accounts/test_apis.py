from __future__ import annotations

import pytest

from tests.factories import UserFactory
from tests.projects.test_apis import assert_error

pytestmark = pytest.mark.django_db


def test_me_shows_and_edits_the_profile(client_for, user):
    api = client_for(user)
    assert api.get("/api/users/me").json()["address"] == user.address
    response = api.patch(
        "/api/users/me",
        {"displayName": "Ada", "bio": "Clarity dev", "skills": ["clarity", "rust"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["displayName"] == "Ada"
    user.refresh_from_db()
    assert (user.display_name, user.bio, user.skills) == ("Ada", "Clarity dev", ["clarity", "rust"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"displayName": "x" * 81}, "displayName"),
        ({"skills": "clarity"}, "skills"),
        ({"address": "ST000000000000000000042DB08Y"}, "address"),
        ({"isStaff": True}, "isStaff"),
    ],
)
def test_me_refuses_bad_or_forbidden_fields(client_for, user, body, field):
    response = client_for(user).patch("/api/users/me", body, format="json")
    assert_error(response, 400, "validation_error", field)
    user.refresh_from_db()
    assert user.is_staff is False


def test_me_requires_sign_in(anon):
    assert_error(anon.get("/api/users/me"), 401)


def test_public_profile(anon):
    user = UserFactory(display_name="Bob", skills=["design"])
    body = anon.get(f"/api/users/{user.address}").json()
    assert body["displayName"] == "Bob" and body["skills"] == ["design"]
    assert body["reviews"] == {"count": 0, "averageRating": None}
    assert "isStaff" not in body


def test_public_profile_errors(anon):
    assert_error(anon.get("/api/users/ST000000000000000000042DB08Y"), 404, "not_found")
    assert_error(anon.get("/api/users/not-an-address"), 404, "not_found")  # no such path
