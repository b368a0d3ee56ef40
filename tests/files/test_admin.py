"""The admin of stored files: read-only, with "Pin again"."""

from __future__ import annotations

import pytest
from django.test import Client

from files.models import StoredFile
from tests.factories import UserFactory
from tests.files.factories import StoredFileFactory
from tests.files.ipfs_server import IpfsServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_list_and_a_file_show_and_nothing_is_editable(admin_client: Client) -> None:
    stored = StoredFileFactory()
    listing = admin_client.get("/admin/files/storedfile/")
    assert listing.status_code == 200
    assert stored.cid in listing.text
    page = admin_client.get(f"/admin/files/storedfile/{stored.pk}/change/")
    assert page.status_code == 200
    assert f'href="/api/files/{stored.cid}"' in page.text
    assert admin_client.get("/admin/files/storedfile/add/").status_code == 403


def test_pin_again_queues_failed_files(
    admin_client: Client, ipfs: IpfsServer, files_conf, q_sync, django_capture_on_commit_callbacks
) -> None:
    files_conf(IPFS_PINNING_URL=ipfs.url, IPFS_PINNING_TOKEN="test-token")
    failed = StoredFileFactory(pin_status=StoredFile.PinStatus.FAILED, pin_error="401")
    pinned = StoredFileFactory(pin_status=StoredFile.PinStatus.PINNED)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/files/storedfile/",
            {"action": "pin_again", "_selected_action": [failed.pk, pinned.pk]},
            follow=True,
        )

    assert response.status_code == 200
    assert "1 file(s) queued for pinning." in response.text
    assert "cannot become pending" in response.text  # the pinned one, refused
    failed.refresh_from_db()
    assert failed.pin_status == StoredFile.PinStatus.PINNED
    assert [p.cid for p in ipfs.pins.values()] == [failed.cid]


def test_no_one_deletes_a_stored_file_in_the_admin(admin_client: Client) -> None:
    stored = StoredFileFactory()
    delete_page = f"/admin/files/storedfile/{stored.pk}/delete/"
    assert admin_client.get(delete_page).status_code == 403
    assert admin_client.post(delete_page, {"post": "yes"}).status_code == 403
    listing = admin_client.get("/admin/files/storedfile/")
    assert 'value="delete_selected"' not in listing.text
    admin_client.post(
        "/admin/files/storedfile/",
        {"action": "delete_selected", "_selected_action": [stored.pk], "post": "yes"},
    )
    assert StoredFile.objects.filter(pk=stored.pk).exists()
