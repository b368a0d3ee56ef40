"""Concurrent uploads of the same bytes, and concurrent pinning steps, with real threads
(PostgreSQL in CI's second run; SQLite's IMMEDIATE transactions in the first)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from files import services
from files.models import StoredFile
from tests.factories import make_address
from tests.files.ipfs_server import IpfsServer

pytestmark = pytest.mark.django_db(transaction=True)

DATA = b"the same deliverable, uploaded by both parties at once\n"


def in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # reported by the assertions below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_the_same_bytes_uploaded_at_once_are_one_file_and_one_copy(media: Path) -> None:
    def upload(i: int) -> tuple[StoredFile, bool]:
        return services.stored_file_create(
            content=ContentFile(DATA),
            name=f"copy-{i}.txt",
            content_type="text/plain",
            uploaded_by=make_address(f"race-{i}"),
        )

    results = in_threads(6, upload)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(created for _, created in results) == 1
    assert StoredFile.objects.count() == 1
    stored = StoredFile.objects.get()
    # one copy, the record's (the storage suffixes a name taken by a racing save)
    assert [f"ipfs/{p.name}" for p in (media / "ipfs").iterdir()] == [stored.storage_name]
    assert (media / stored.storage_name).read_bytes() == DATA


def test_concurrent_pinning_steps_ask_the_service_once(ipfs: IpfsServer, files_conf) -> None:
    stored, _ = services.stored_file_create(
        content=ContentFile(DATA), name="a.txt", content_type="text/plain", uploaded_by="ST1"
    )  # not pending yet: nothing configured
    files_conf(IPFS_PINNING_URL=ipfs.url, IPFS_PINNING_TOKEN="test-token")
    StoredFile.objects.filter(pk=stored.pk).update(pin_status=StoredFile.PinStatus.PENDING)

    results = in_threads(4, lambda i: services.stored_file_pin_advance(file_id=stored.pk))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(ipfs.requests_to("POST /pins")) == 1
    stored.refresh_from_db()
    assert stored.pin_status == StoredFile.PinStatus.PINNED


def test_a_file_being_stored_is_never_seen_in_part(media: Path) -> None:
    """While one upload is still writing its bytes, nothing stands under the CID's name: a
    concurrent upload of the same bytes must not find part of them there, take them for
    damaged and replace them under their writer (what made the test above fail now and then)."""
    data = b"a deliverable long enough to be written in several chunks\n" * 8_000
    half_written, go_on = threading.Event(), threading.Event()

    class Slow(ContentFile):
        def chunks(self, chunk_size: int | None = None):
            pieces = list(super().chunks(64 * 1024))
            yield pieces[0]
            half_written.set()
            go_on.wait(30)
            yield from pieces[1:]

    results = []

    def upload() -> None:
        try:
            results.append(
                services.stored_file_create(
                    content=Slow(data), name="a.txt", content_type="text/plain", uploaded_by="ST1"
                )
            )
        finally:
            connection.close()

    writer = threading.Thread(target=upload)
    writer.start()
    try:
        assert half_written.wait(30)
        finished = [p.name for p in (media / "ipfs").iterdir() if not p.name.endswith(".part")]
        assert finished == []
    finally:
        go_on.set()
        writer.join(timeout=60)
    stored, created = results[0]
    assert created and [p.name for p in (media / "ipfs").iterdir()] == [stored.cid]
    assert (media / stored.storage_name).read_bytes() == data
