"""POST /api/files, GET /api/files/:cid and /info through the API."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from multiformats import CID

from files.errors import FileIntegrityError
from files.models import StoredFile
from files.unixfs import CHUNK_SIZE, unixfs_cid
from tests.files.conftest import PNG
from tests.files.test_cid import VECTORS, pattern

pytestmark = pytest.mark.django_db

TEXT = b"Milestone 1: the logo, final version.\n"


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


# --- upload ---------------------------------------------------------------------------------


def test_upload_returns_the_cid_and_keeps_the_bytes(client_for, user, upload, media) -> None:
    response = upload(client_for(user), TEXT, name="logo-notes.txt")

    assert response.status_code == 201, response.json()
    body = response.json()
    cid = unixfs_cid(TEXT)
    assert body["cid"] == cid
    assert body["size"] == len(TEXT)
    assert body["sha256"] == hashlib.sha256(TEXT).hexdigest()
    assert body["name"] == "logo-notes.txt"
    assert body["contentType"] == "text/plain"
    assert body["url"] == f"http://testserver/api/files/{cid}"
    assert body["ipfsUri"] == f"ipfs://{cid}"
    assert body["gateway"] is None
    assert body["uploadedBy"] == user.address
    assert body["pinStatus"] == "unpinned"  # nothing configured to pin with
    assert (media / "ipfs" / cid).read_bytes() == TEXT


@pytest.mark.parametrize(
    "vector", [v for v in VECTORS["vectors"] if 0 < v["size"] <= 5 * 2**20], ids=lambda v: v["name"]
)
def test_upload_cid_is_the_reference_cid(client_for, user, upload, files_conf, vector) -> None:
    files_conf(ALLOWED_CONTENT_TYPES=["application/octet-stream"])
    response = upload(
        client_for(user), pattern(vector["size"]), "blob.bin", "application/octet-stream"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["cid"] == vector["cid"]
    assert response.json()["sha256"] == vector["sha256"]


def test_the_same_bytes_twice_are_one_file(client_for, user, upload) -> None:
    first = upload(client_for(user), TEXT, name="a.txt")
    again = upload(client_for("ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG"), TEXT, name="b.txt")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["cid"] == first.json()["cid"]
    assert again.json()["name"] == "a.txt"
    # the second uploader is not told who uploaded the bytes first
    assert again.json()["uploadedBy"] is None
    assert first.json()["uploadedBy"] == user.address


def test_upload_needs_sign_in(anon, upload) -> None:
    response = upload(anon, TEXT)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_an_empty_file_is_refused(client_for, user, upload, media) -> None:
    response = upload(client_for(user), b"")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "file_empty"
    assert response.json()["error"]["details"] == {"file": ["The file is empty."]}


def test_a_file_over_the_cap_is_refused_while_it_arrives(
    client_for, user, upload, files_conf, media
) -> None:
    files_conf(MAX_BYTES=1000)
    response = upload(client_for(user), b"x" * 1001)

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "file_too_large"
    assert error["details"]["maxBytes"] == 1000
    assert not (media / "ipfs").exists()
    assert upload(client_for(user), b"x" * 1000).status_code == 201  # the cap itself is fine


def test_a_body_far_over_the_cap_is_refused_before_it_is_read(
    client_for, user, upload, files_conf
) -> None:
    files_conf(MAX_BYTES=10)
    response = upload(client_for(user), b"y" * 100_000)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"<html><script>alert(1)</script></html>", "text/html"),  # not on the allow-list
        (b"<svg onload='alert(1)'/>", "image/svg+xml"),
        (b"<html>not a png</html>", "image/png"),  # bytes that contradict the type
        (PNG, "application/pdf"),
        (b"\x00\x01binary", "text/plain"),
        (b"\xff\xfe not utf-8", "text/plain"),
    ],
)
def test_a_type_not_allowed_or_not_matching_the_bytes_is_refused(
    client_for, user, upload, data, content_type
) -> None:
    response = upload(client_for(user), data, name="x", content_type=content_type)
    assert response.status_code == 415, response.json()
    assert response.json()["error"]["code"] == "unsupported_file_type"
    assert "file" in response.json()["error"]["details"]


def test_a_png_is_accepted_with_parameters_in_its_type(client_for, user, upload) -> None:
    response = upload(client_for(user), PNG, name="a.png", content_type="image/PNG")
    assert response.status_code == 201
    assert response.json()["contentType"] == "image/png"


def test_the_expected_cid_must_match(client_for, user, upload, media) -> None:
    api = client_for(user)
    other = unixfs_cid(b"something else")

    wrong = upload(api, TEXT, cid=other)
    assert wrong.status_code == 422
    assert wrong.json()["error"]["code"] == "cid_mismatch"
    assert wrong.json()["error"]["details"]["computedCid"] == unixfs_cid(TEXT)
    assert not (media / "ipfs").exists()

    garbage = upload(api, TEXT, cid="not-a-cid")
    assert garbage.status_code == 422
    assert "cid" in garbage.json()["error"]["details"]

    assert upload(api, TEXT, cid=unixfs_cid(TEXT).upper()).status_code == 201


def test_the_form_must_hold_a_file_and_nothing_unknown(client_for, user, upload) -> None:
    api = client_for(user)
    missing = api.post("/api/files", {"cid": unixfs_cid(TEXT)}, format="multipart")
    assert missing.status_code == 400
    assert "file" in missing.json()["error"]["details"]
    unknown = upload(api, TEXT, pinStatus="pinned")
    assert unknown.status_code == 400
    assert "pinStatus" in unknown.json()["error"]["details"]
    as_json = api.post("/api/files", {"file": "x"}, format="json")
    assert as_json.status_code == 415


def test_the_name_is_cleaned(client_for, user, upload) -> None:
    response = upload(client_for(user), TEXT, name="../../etc/pass\x07wd.txt")
    assert response.json()["name"] == "passwd.txt"


# --- reading ------------------------------------------------------------------------------


def test_get_streams_the_bytes_with_their_headers(anon, client_for, user, upload) -> None:
    cid = upload(client_for(user), TEXT, name="notes 1.txt").json()["cid"]

    response = anon.get(f"/api/files/{cid}", HTTP_ACCEPT="application/octet-stream")

    assert response.status_code == 200
    assert body_of(response) == TEXT
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Length"] == str(len(TEXT))
    assert response["Content-Disposition"] == 'attachment; filename="notes 1.txt"'
    assert response["ETag"] == f'"{cid}"'
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Ipfs-Path"] == f"/ipfs/{cid}"


def test_images_are_shown_inline(anon, client_for, user, upload) -> None:
    cid = upload(client_for(user), PNG, name="shot.png", content_type="image/png").json()["cid"]
    response = anon.get(f"/api/files/{cid}")
    assert response["Content-Disposition"] == 'inline; filename="shot.png"'
    assert body_of(response) == PNG


def test_a_multi_chunk_file_reads_back_whole_by_any_form_of_its_cid(
    anon, client_for, user, upload, files_conf
) -> None:
    files_conf(ALLOWED_CONTENT_TYPES=["application/octet-stream"])
    data = pattern(CHUNK_SIZE * 2 + 5)
    cid = upload(client_for(user), data, "b.bin", "application/octet-stream").json()["cid"]
    v0 = str(CID.decode(cid).set(version=0, base="base58btc"))
    assert v0.startswith("Qm")

    response = anon.get(f"/api/files/{v0}")
    assert response.status_code == 200
    assert body_of(response) == data


def test_if_none_match_is_not_modified(anon, client_for, user, upload) -> None:
    cid = upload(client_for(user), TEXT).json()["cid"]
    response = anon.get(f"/api/files/{cid}", HTTP_IF_NONE_MATCH=f'"other", "{cid}"')
    assert response.status_code == 304
    assert response["ETag"] == f'"{cid}"'


def test_malformed_and_unknown_cids_are_404(anon) -> None:
    # nothing is at a path that names no CID
    malformed = anon.get("/api/files/not-a-cid")
    assert malformed.status_code == 404
    assert malformed.json()["error"]["code"] == "file_not_found"
    unknown = anon.get(f"/api/files/{unixfs_cid(b'never uploaded')}")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "file_not_found"
    assert anon.get("/api/files/not-a-cid/info").status_code == 404


def test_bytes_that_no_longer_match_are_not_served(
    anon, client_for, user, upload, media, files_conf
) -> None:
    files_conf(IPFS_GATEWAY_URL="https://gateway.example/")
    cid = upload(client_for(user), TEXT).json()["cid"]
    (media / "ipfs" / cid).write_bytes(TEXT.replace(b"final", b"draft"))

    response = anon.get(f"/api/files/{cid}")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "file_integrity_failed"
    assert error["details"]["gateway"] == f"https://gateway.example/ipfs/{cid}"
    assert anon.get(f"/api/files/{cid}/info").status_code == 200  # the record is still there

    # uploading the same bytes again repairs the stored copy
    assert upload(client_for(user), TEXT).status_code == 200
    assert body_of(anon.get(f"/api/files/{cid}")) == TEXT


def test_missing_bytes_are_not_served(anon, client_for, user, upload, media) -> None:
    cid = upload(client_for(user), TEXT).json()["cid"]
    (media / "ipfs" / cid).unlink()
    response = anon.get(f"/api/files/{cid}")
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "The file's bytes are missing."


def test_bytes_changed_while_streaming_never_complete_the_response(
    anon, client_for, user, upload, media, files_conf
) -> None:
    files_conf(ALLOWED_CONTENT_TYPES=["application/octet-stream"], VERIFY_AHEAD_BYTES=CHUNK_SIZE)
    data = pattern(CHUNK_SIZE * 2 + 10)
    cid = upload(client_for(user), data, "b.bin", "application/octet-stream").json()["cid"]
    response = anon.get(f"/api/files/{cid}")  # checked whole, then streamed
    assert response.status_code == 200
    with Path(media / "ipfs" / cid).open("r+b") as disk:  # changed after the check
        disk.seek(CHUNK_SIZE * 2 + 3)
        disk.write(b"!")

    sent: list[bytes] = []
    with pytest.raises(FileIntegrityError):
        sent.extend(response.streaming_content)
    assert b"".join(sent) == data[: CHUNK_SIZE * 2]  # the last chunk was held back
    assert response["Content-Length"] == str(len(data))


@pytest.mark.parametrize("ahead", [CHUNK_SIZE, 10 * CHUNK_SIZE])  # read again / held in memory
def test_damaged_bytes_of_any_size_are_refused_before_anything_is_sent(
    anon, client_for, user, upload, media, files_conf, ahead
) -> None:
    files_conf(ALLOWED_CONTENT_TYPES=["application/octet-stream"], VERIFY_AHEAD_BYTES=ahead)
    data = pattern(CHUNK_SIZE * 3)
    cid = upload(client_for(user), data, "b.bin", "application/octet-stream").json()["cid"]
    assert body_of(anon.get(f"/api/files/{cid}")) == data

    with Path(media / "ipfs" / cid).open("r+b") as disk:  # same size, last byte changed
        disk.seek(len(data) - 1)
        disk.write(b"?")
    refused = anon.get(f"/api/files/{cid}")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "file_integrity_failed"


@pytest.mark.parametrize(("ahead", "reads"), [(CHUNK_SIZE, 2), (10 * CHUNK_SIZE, 1)])
def test_a_download_hashes_the_bytes_once(
    anon, client_for, user, upload, files_conf, monkeypatch, ahead, reads
) -> None:
    from files import selectors
    from files.conf import file_storage
    from files.unixfs import UnixfsHasher

    files_conf(ALLOWED_CONTENT_TYPES=["application/octet-stream"], VERIFY_AHEAD_BYTES=ahead)
    data = pattern(CHUNK_SIZE * 3 + 1)
    cid = upload(client_for(user), data, "b.bin", "application/octet-stream").json()["cid"]
    hashed, read = [], []

    class CountingHasher(UnixfsHasher):
        def update(self, chunk) -> None:
            hashed.append(len(chunk))
            super().update(chunk)

    class CountingReader:
        def __init__(self, raw) -> None:
            self.raw = raw

        def __getattr__(self, name):
            return getattr(self.raw, name)

        def read(self, *args):
            chunk = self.raw.read(*args)
            read.append(len(chunk))
            return chunk

    class CountingStorage:
        def open(self, name, mode="rb"):
            handle = file_storage().open(name, mode)
            handle.file = CountingReader(handle.file)
            return handle

    monkeypatch.setattr(selectors, "UnixfsHasher", CountingHasher)
    monkeypatch.setattr(selectors, "file_storage", CountingStorage)
    assert body_of(anon.get(f"/api/files/{cid}")) == data
    assert sum(hashed) == len(data)
    assert sum(read) == reads * len(data)


def test_head_answers_from_the_record_without_hashing(
    anon, client_for, user, upload, media, monkeypatch
) -> None:
    from files import selectors

    cid = upload(client_for(user), TEXT, name="notes.txt").json()["cid"]
    get = anon.get(f"/api/files/{cid}")

    def no_hashing(*args, **kwargs):
        raise AssertionError("HEAD hashed the bytes")

    monkeypatch.setattr(selectors, "UnixfsHasher", no_hashing)
    head = anon.head(f"/api/files/{cid}")

    assert head.status_code == 200
    assert head.content == b""
    for name in ["Content-Type", "Content-Length", "Content-Disposition", "ETag", "Cache-Control"]:
        assert head[name] == get[name], name
    assert head["Accept-Ranges"] == get["Accept-Ranges"] == "none"
    assert anon.head(f"/api/files/{cid}", HTTP_IF_NONE_MATCH=f'"{cid}"').status_code == 304
    (media / "ipfs" / cid).write_bytes(TEXT + b"more")
    assert anon.head(f"/api/files/{cid}").status_code == 409
    (media / "ipfs" / cid).unlink()
    assert anon.head(f"/api/files/{cid}").status_code == 409
    assert anon.head("/api/files/b").status_code == 404


def test_downloads_are_rate_limited(anon, client_for, user, upload, files_conf) -> None:
    from tests.factories import UserFactory

    files_conf(DOWNLOAD_RATE_ANON="3/min", DOWNLOAD_RATE_USER="4/min")
    cid = upload(client_for(user), TEXT).json()["cid"]
    url = f"/api/files/{cid}"
    assert [anon.get(url).status_code for _ in range(2)] == [200, 200]
    assert anon.head(url).status_code == 200  # HEAD counts too
    assert anon.head(url).status_code == 429
    limited = anon.get(url)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in limited

    signed_in = client_for(UserFactory())  # counted per user, not with the anonymous IP
    assert [signed_in.get(url).status_code for _ in range(5)] == [200] * 4 + [429]
    assert anon.get(f"{url}/info").status_code == 200  # the record is not limited


def test_gateway_and_info(anon, client_for, user, upload, files_conf) -> None:
    files_conf(IPFS_GATEWAY_URL="https://ipfs.example.org")
    cid = upload(client_for(user), TEXT).json()["cid"]

    info = anon.get(f"/api/files/{cid}/info")

    assert info.status_code == 200
    body = info.json()
    assert body["gateway"] == f"https://ipfs.example.org/ipfs/{cid}"
    assert body["pinStatus"] == "unpinned"
    assert body["pinError"] is None
    assert body["sha256"] == hashlib.sha256(TEXT).hexdigest()


def test_the_upload_is_hashed_as_it_arrives_not_read_again(
    client_for, user, upload, monkeypatch
) -> None:
    from files.services import storage

    def read_again(content):
        raise AssertionError("the service read the upload a second time")

    monkeypatch.setattr(storage, "file_digest", read_again)
    assert upload(client_for(user), TEXT).status_code == 201


def test_a_user_lists_their_own_uploads(
    client_for, user, upload, django_assert_num_queries
) -> None:
    api = client_for(user)
    first = upload(api, b"one\n").json()["cid"]
    second = upload(api, b"two\n").json()["cid"]
    upload(client_for("ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG"), b"not mine\n")

    with django_assert_num_queries(2):  # the count and the page
        response = api.get("/api/files?pageSize=1")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [f["cid"] for f in body["results"]] == [second]
    assert body["results"][0]["url"] == f"http://testserver/api/files/{second}"
    assert [f["cid"] for f in api.get("/api/files?page=2&pageSize=1").json()["results"]] == [first]


def test_listing_needs_sign_in(anon) -> None:
    assert anon.get("/api/files").status_code == 401


def test_a_damaged_copy_under_a_suffixed_name_is_repaired_in_place(
    anon, client_for, user, upload, media
) -> None:
    from files.models import StoredFile

    cid = upload(client_for(user), TEXT).json()["cid"]
    (media / "ipfs" / cid).rename(media / "ipfs" / f"{cid}_Ab12XyZ")  # a racing save's name
    StoredFile.objects.filter(cid=cid).update(storage_name=f"ipfs/{cid}_Ab12XyZ")
    (media / "ipfs" / f"{cid}_Ab12XyZ").write_bytes(b"damaged")
    assert anon.get(f"/api/files/{cid}").status_code == 409

    assert upload(client_for(user), TEXT).status_code == 200

    assert body_of(anon.get(f"/api/files/{cid}")) == TEXT
    assert sorted(p.name for p in (media / "ipfs").iterdir()) == [f"{cid}_Ab12XyZ"]


SHORT_CIDS = ["b", "z", "f", "u", "m", "k", "9", "%00"]


@pytest.mark.parametrize("text", SHORT_CIDS)
def test_a_lone_multibase_prefix_is_404_not_500(anon, client_for, user, upload, text) -> None:
    download = anon.get(f"/api/files/{text}")
    assert download.status_code == 404, download.content
    assert download.json()["error"]["code"] == "file_not_found"
    assert anon.get(f"/api/files/{text}/info").status_code == 404
    expected = upload(client_for(user), TEXT, cid=text.replace("%00", "\x00"))
    assert expected.status_code == 422
    assert "cid" in expected.json()["error"]["details"]


@pytest.mark.parametrize("text", ["b", "z", "f", "\x00"])
def test_a_lone_multibase_prefix_in_an_ipfs_submission_link_is_422(client_for, text) -> None:
    from projects.models import Project
    from tests.factories import ProjectFactory, make_address

    project = ProjectFactory(status=Project.Status.ACTIVE, freelancer_address=make_address())
    freelancer = client_for(project.freelancer_address)
    response = freelancer.put(
        f"/api/projects/{project.pk}/milestones/1/submission",
        {"submissionLink": f"ipfs://{text}"},
        format="json",
    )
    assert response.status_code == 422, response.content
    assert "submissionLink" in response.json()["error"]["details"]


@pytest.mark.parametrize("text", ["b", "z", "f", "\x00"])
def test_a_lone_multibase_prefix_as_evidence_file_is_422(client_for, text) -> None:
    from tests.projects import disputes

    project = disputes.active_project()
    dispute = disputes.file(project)
    response = client_for(project.client_address).post(
        f"/api/disputes/{dispute.pk}/evidence",
        {"description": "x", "fileCid": text},
        format="json",
    )
    assert response.status_code == 422, response.content
    assert "fileCid" in response.json()["error"]["details"]


def test_two_files_in_one_upload_are_refused(client_for, user, media) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_for(user).post(
        "/api/files",
        {
            "file": [
                SimpleUploadedFile("a.txt", b"first\n", content_type="text/plain"),
                SimpleUploadedFile("b.txt", b"second\n", content_type="text/plain"),
            ]
        },
        format="multipart",
    )
    assert response.status_code == 422, response.content
    assert "file" in response.json()["error"]["details"]
    assert not StoredFile.objects.exists()
    assert not (media / "ipfs").exists()


@pytest.mark.parametrize(
    ("status", "public"),
    [
        ("pending", "The last pinning attempt failed; it will be retried."),
        ("failed", "Pinning failed; staff have been told."),
    ],
)
def test_pin_errors_and_the_uploader_are_shown_to_the_uploader_and_staff_only(
    anon, client_for, status, public
) -> None:
    from tests.factories import UserFactory
    from tests.files.factories import StoredFileFactory

    internal = "pinning service unreachable: HTTPConnectionPool(host='10.0.0.7', port=9)"
    stored = StoredFileFactory(pin_status=status, pin_error=internal)
    url = f"/api/files/{stored.cid}/info"

    for outsider in [anon, client_for(UserFactory())]:
        body = outsider.get(url).json()
        assert (body["uploadedBy"], body["pinError"], body["pinStatus"]) == (None, public, status)
        assert "10.0.0.7" not in str(body)
    for insider in [client_for(stored.uploaded_by), client_for(UserFactory(is_staff=True))]:
        body = insider.get(url).json()
        assert (body["uploadedBy"], body["pinError"]) == (stored.uploaded_by, internal)


def test_uploads_are_rate_limited_per_user_and_per_ip(client_for, user, upload, files_conf) -> None:
    from tests.factories import UserFactory

    files_conf(UPLOAD_RATE_USER="2/hour", UPLOAD_RATE_IP="5/hour")  # refused ones count too
    api = client_for(user)
    assert [upload(api, f"{n}\n".encode()).status_code for n in range(3)] == [201, 201, 429]
    assert upload(api, b"later\n").json()["error"]["code"] == "rate_limited"
    assert api.get("/api/files").status_code == 200  # listing is not an upload

    fresh_wallet = client_for(UserFactory())  # a new sign-in from the same address: the IP
    assert [upload(fresh_wallet, f"w{n}\n".encode()).status_code for n in range(2)] == [201, 429]


def test_a_user_cannot_store_past_their_quota(client_for, user, upload, files_conf, media) -> None:
    from tests.factories import UserFactory

    files_conf(QUOTA_BYTES_PER_USER=20)
    api = client_for(user)
    assert upload(api, b"0123456789\n").status_code == 201  # 11 bytes
    over = upload(api, b"abcdefghij\n")  # 22 > 20
    assert over.status_code == 413
    error = over.json()["error"]
    assert error["code"] == "storage_quota_exceeded"
    assert error["details"] == {"usedBytes": 11, "quotaBytes": 20}
    assert len(list((media / "ipfs").iterdir())) == 1  # refused before it was stored
    assert upload(api, b"short\n").status_code == 201  # 17: still fits
    assert upload(api, b"0123456789\n").status_code == 200  # known bytes cost nothing

    other = client_for(UserFactory())  # others have their own quota
    assert upload(other, b"abcdefghij\n").status_code == 201
    assert upload(other, b"0123456789\n").status_code == 200  # uploaded first by `user`


def test_without_a_local_file_to_stat_the_stream_is_hashed_again(
    anon, client_for, user, upload, media, files_conf, monkeypatch
) -> None:
    from files import selectors

    monkeypatch.setattr(selectors, "_identity", lambda handle: None)  # e.g. object storage
    files_conf(ALLOWED_CONTENT_TYPES=["application/octet-stream"], VERIFY_AHEAD_BYTES=CHUNK_SIZE)
    data = pattern(CHUNK_SIZE * 2 + 10)
    cid = upload(client_for(user), data, "b.bin", "application/octet-stream").json()["cid"]
    assert body_of(anon.get(f"/api/files/{cid}")) == data

    response = anon.get(f"/api/files/{cid}")
    path = media / "ipfs" / cid
    with path.open("r+b") as disk:  # changed after the check, mtime set back
        stat = path.stat()
        disk.seek(3)
        disk.write(b"!")
    import os

    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    sent: list[bytes] = []
    with pytest.raises(FileIntegrityError):
        sent.extend(response.streaming_content)
    assert len(b"".join(sent)) == CHUNK_SIZE * 2
