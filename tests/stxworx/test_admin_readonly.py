"""Records only the system writes cannot be deleted in the admin, not even by a superuser: a
deleted stored file would leave the evidence and submissions citing it dangling, a deleted revoked
token would work again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import RevokedToken
from files.models import StoredFile
from tests.factories import UserFactory
from tests.files.factories import StoredFileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_a_stored_file_cannot_be_deleted_one_by_one_or_in_bulk(superuser: Client) -> None:
    stored = StoredFileFactory()

    one = superuser.post(f"/admin/files/storedfile/{stored.pk}/delete/", {"post": "yes"})
    bulk = superuser.post(
        "/admin/files/storedfile/",
        {"action": "delete_selected", "_selected_action": [stored.pk], "post": "yes"},
    )

    assert one.status_code == 403
    assert bulk.status_code in (200, 302)  # the action is not offered: nothing happens
    assert StoredFile.objects.filter(pk=stored.pk).exists()
    listing = superuser.get("/admin/files/storedfile/")
    assert "delete_selected" not in listing.text


def test_a_revoked_token_cannot_be_deleted(superuser: Client) -> None:
    token = RevokedToken.objects.create(jti="j" * 32, expires_at=timezone.now() + timedelta(1))

    response = superuser.post(f"/admin/accounts/revokedtoken/{token.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert RevokedToken.objects.filter(pk=token.pk).exists()
