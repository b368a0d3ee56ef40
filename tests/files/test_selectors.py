from __future__ import annotations

import pytest

from files.models import StoredFile
from files.selectors import (
    ipfs_link_cid,
    ipfs_link_file,
    stored_file_for_attachment,
    stored_file_for_link,
    stored_file_get,
    stored_files_by_cid,
)
from stxworx.errors import InvalidInput, NotFound
from tests.files.factories import StoredFileFactory

pytestmark = pytest.mark.django_db

EMPTY_RAW = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


def test_stored_file_get_finds_a_file_by_any_form_of_its_cid() -> None:
    stored = StoredFileFactory()
    assert stored_file_get(cid=stored.cid) == stored
    assert stored_file_get(cid=stored.cid.upper()) == stored  # base32 is case-blind


def test_stored_file_get_unknown_or_garbage_is_not_found() -> None:
    with pytest.raises(NotFound):
        stored_file_get(cid=EMPTY_RAW)
    with pytest.raises(NotFound) as exc:  # a path naming no CID: nothing is there
        stored_file_get(cid="not-a-cid")
    assert exc.value.code == "file_not_found"


def test_ipfs_link_file() -> None:
    stored = StoredFileFactory()
    assert ipfs_link_file("https://github.com/me/pr/1") is None
    assert ipfs_link_file(f"ipfs://{stored.cid}") == stored
    assert ipfs_link_file(f"IPFS://{stored.cid}/") == stored
    with pytest.raises(InvalidInput) as unknown:
        ipfs_link_file(f"ipfs://{EMPTY_RAW}")
    assert unknown.value.extra == {"submissionLink": [unknown.value.message.split(": ", 1)[1]]}
    with pytest.raises(InvalidInput):
        ipfs_link_file("ipfs://nonsense", field="evidence")


def test_cid_is_unique() -> None:
    from django.db import IntegrityError

    stored = StoredFileFactory()
    with pytest.raises(IntegrityError):
        StoredFile.objects.create(
            cid=stored.cid,
            sha256=stored.sha256,
            size=1,
            name="x",
            content_type="text/plain",
            uploaded_by=stored.uploaded_by,
            storage_name="x",
        )


def test_deliverable_link_field_takes_urls_and_ipfs_links() -> None:
    from rest_framework import serializers

    from files.serializers import DeliverableLinkField

    class Submission(serializers.Serializer):
        submissionLink = DeliverableLinkField(max_length=1000)

    def check(link: str) -> tuple[bool, object]:
        s = Submission(data={"submissionLink": link})
        ok = s.is_valid()
        return ok, s.validated_data["submissionLink"] if ok else s.errors["submissionLink"]

    assert check("https://github.com/me/logo/pull/1") == (True, "https://github.com/me/logo/pull/1")
    assert check(f"ipfs://{EMPTY_RAW.upper()}/") == (True, f"ipfs://{EMPTY_RAW}")
    v0 = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
    assert check(f"IPFS://{v0}")[1].startswith("ipfs://bafybei")
    assert check("ipfs://nonsense")[0] is False
    assert check("javascript:alert(1)")[0] is False
    assert check("not a url")[0] is False


def test_stored_file_for_attachment_is_422_on_the_field_for_bad_and_unknown_cids() -> None:
    stored = StoredFileFactory()
    assert stored_file_for_attachment(cid=f" {stored.cid.upper()} ", field="fileCid") == stored
    for text in ["not-a-cid", "b", "z", "\x00", EMPTY_RAW]:
        with pytest.raises(InvalidInput) as exc:
            stored_file_for_attachment(cid=text, field="fileCid")
        assert exc.value.http_status == 422  # well formed JSON, a rule past the schema
        assert list(exc.value.extra) == ["fileCid"], text


def test_reads_for_rendering_never_raise() -> None:
    stored, other = StoredFileFactory(), StoredFileFactory()
    assert ipfs_link_cid(f"IPFS://{stored.cid.upper()}/") == stored.cid
    assert ipfs_link_cid("https://example.com/x") is None
    assert ipfs_link_cid("ipfs://b") is None
    assert stored_file_for_link(f"ipfs://{stored.cid}") == stored
    assert stored_file_for_link(f"ipfs://{EMPTY_RAW}") is None
    assert stored_file_for_link("ipfs://z") is None
    found = stored_files_by_cid(cids=[stored.cid, other.cid, EMPTY_RAW, ""])
    assert found == {stored.cid: stored, other.cid: other}
    assert found[stored.cid].pin_status == "unpinned"
    assert stored_files_by_cid(cids=[]) == {}
