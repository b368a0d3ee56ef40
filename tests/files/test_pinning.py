"""Pinning through the IPFS Pinning Service API and Kubo, against fakes on loopback."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from files import services, tasks
from files.models import StoredFile
from files.unixfs import CHUNK_SIZE, unixfs_cid
from stxworx.errors import Conflict, InvalidTransition
from tests.factories import make_address
from tests.files.ipfs_server import IpfsServer
from tests.files.test_cid import pattern

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = b"Evidence: the chat log of 2026-11-02.\n"
Status = StoredFile.PinStatus


@pytest.fixture
def pinning(ipfs: IpfsServer, files_conf, q_sync) -> IpfsServer:
    """A pinning service configured (quick retries), its tasks run at once."""
    files_conf(
        IPFS_PINNING_URL=ipfs.url,
        IPFS_PINNING_TOKEN="test-token",
        PIN_RETRY_SECONDS=60,
        PIN_POLL_SECONDS=30,
        PIN_MAX_ATTEMPTS=3,
        PIN_TIMEOUT_SECONDS=5,
    )
    return ipfs


def create(data: bytes = TEXT, name: str = "chat.txt", kind: str = "text/plain") -> StoredFile:
    stored, _ = services.stored_file_create(
        content=ContentFile(data), name=name, content_type=kind, uploaded_by=make_address()
    )
    stored.refresh_from_db()
    return stored


def make_due(stored: StoredFile) -> None:
    StoredFile.objects.filter(pk=stored.pk).update(
        pin_next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def sweep(stored: StoredFile) -> StoredFile:
    tasks.stored_files_pin_sweep()
    stored.refresh_from_db()
    return stored


def test_upload_is_pinned_by_the_queued_task(pinning: IpfsServer) -> None:
    stored = create()

    assert stored.pin_status == Status.PINNED
    assert stored.pin_service == "pinning"
    assert stored.pinned_at is not None
    (post,) = pinning.requests_to("POST /pins")
    assert post.headers["Authorization"] == "Bearer test-token"
    pin = json.loads(post.body)
    assert pin["cid"] == unixfs_cid(TEXT)
    assert pin["name"] == "chat.txt"
    assert pin["meta"]["sha256"] == stored.sha256
    assert stored.pin_request_id in pinning.pins
    from django_q.models import Task

    assert Task.objects.filter(func="files.tasks.stored_file_pin", success=True).exists()


def test_a_queued_pin_is_polled_until_pinned(pinning: IpfsServer) -> None:
    pinning.pins_settle_after = 2  # queued, queued on the first poll, pinned on the second
    stored = create()
    assert stored.pin_status == Status.PENDING
    assert stored.pin_request_id
    assert stored.pin_next_attempt_at > timezone.now() + timedelta(seconds=20)

    assert sweep(stored).pin_status == Status.PENDING  # not due: nothing asked
    assert pinning.requests_to("GET /pins") == []

    make_due(stored)
    assert sweep(stored).pin_status == Status.PENDING
    make_due(stored)
    stored = sweep(stored)

    assert stored.pin_status == Status.PINNED
    assert len(pinning.requests_to("GET /pins")) == 2
    assert len(pinning.requests_to("POST /pins")) == 1


@pytest.mark.parametrize("fault", [503, 500, 429, 0], ids=["503", "500", "429", "dropped"])
def test_a_transient_failure_is_retried_with_backoff(pinning: IpfsServer, fault: int) -> None:
    pinning.fail("POST /pins", fault)
    before = timezone.now()
    stored = create()

    assert stored.pin_status == Status.PENDING
    assert stored.pin_attempts == 1
    assert stored.pin_error.startswith("attempt 1 failed: pinning service")
    assert before + timedelta(seconds=59) < stored.pin_next_attempt_at
    assert stored.pin_next_attempt_at < timezone.now() + timedelta(seconds=61)

    make_due(stored)
    stored = sweep(stored)
    assert stored.pin_status == Status.PINNED
    assert stored.pin_attempts == 0
    assert stored.pin_error == ""


def test_the_backoff_doubles_and_the_retries_run_out(pinning: IpfsServer) -> None:
    pinning.fail("POST /pins", 502, times=3)
    stored = create()
    make_due(stored)
    stored = sweep(stored)
    assert stored.pin_attempts == 2
    assert stored.pin_next_attempt_at > timezone.now() + timedelta(seconds=110)  # 60 * 2

    make_due(stored)
    stored = sweep(stored)

    assert stored.pin_status == Status.FAILED
    assert "gave up after 3 attempts" in stored.pin_error
    assert stored.pin_next_attempt_at is None
    make_due(stored)
    assert sweep(stored).pin_status == Status.FAILED
    assert len(pinning.requests_to("POST /pins")) == 3


def test_a_bad_token_fails_at_once(pinning: IpfsServer, files_conf) -> None:
    files_conf(IPFS_PINNING_TOKEN="wrong")
    stored = create()
    assert stored.pin_status == Status.FAILED
    assert "UNAUTHORIZED" in stored.pin_error
    assert len(pinning.requests_to("POST /pins")) == 1


def test_a_pin_the_service_could_not_make_is_failed(pinning: IpfsServer) -> None:
    pinning.pins_settle_after, pinning.settle_as = 1, "failed"
    stored = create()
    make_due(stored)
    stored = sweep(stored)
    assert stored.pin_status == Status.FAILED
    assert "could not find the content" in stored.pin_error


def test_a_request_the_service_forgot_is_made_again(pinning: IpfsServer) -> None:
    pinning.pins_settle_after = None  # stays queued
    stored = create()
    pinning.pins.clear()
    pinning.pins_settle_after = 0
    make_due(stored)
    stored = sweep(stored)
    assert stored.pin_status == Status.PINNED
    assert len(pinning.requests_to("POST /pins")) == 2


def test_a_poll_failure_keeps_the_request(pinning: IpfsServer) -> None:
    pinning.pins_settle_after = 1
    stored = create()
    request_id = stored.pin_request_id
    pinning.fail("GET /pins", 503)
    make_due(stored)
    stored = sweep(stored)
    assert (stored.pin_status, stored.pin_attempts) == (Status.PENDING, 1)
    assert stored.pin_request_id == request_id
    make_due(stored)
    assert sweep(stored).pin_status == Status.PINNED
    assert len(pinning.requests_to("POST /pins")) == 1


def test_a_claimed_file_is_not_advanced_twice(pinning: IpfsServer) -> None:
    pinning.pins_settle_after = None
    stored = create()
    make_due(stored)
    claimed = services.pinning._claim(stored.pk)  # another worker's step is under way
    assert claimed is not None
    again = services.stored_file_pin_advance(file_id=stored.pk)
    assert again.pin_next_attempt_at == claimed.pin_next_attempt_at
    assert pinning.requests_to("GET /pins") == []


def test_kubo_adds_and_pins_the_streamed_bytes(ipfs: IpfsServer, files_conf, q_sync) -> None:
    files_conf(IPFS_API_URL=ipfs.url, ALLOWED_CONTENT_TYPES=["application/octet-stream"])
    data = pattern(CHUNK_SIZE * 2 + 1)
    stored = create(data, "blob.bin", "application/octet-stream")

    assert stored.pin_status == Status.PINNED
    assert stored.pin_service == "kubo"
    (add,) = ipfs.requests_to("POST /api/v0/add")
    assert add.chunked  # streamed, not read whole into one request body
    assert add.query["cid-version"] == "1" and add.query["pin"] == "true"
    assert ipfs.added[stored.cid] == data


def test_kubo_computing_another_cid_fails(ipfs: IpfsServer, files_conf, q_sync) -> None:
    files_conf(IPFS_API_URL=ipfs.url)
    from files import ipfs as clients

    original = clients.KUBO_ADD_PARAMS
    clients.KUBO_ADD_PARAMS = {**original, "raw-leaves": "false"}
    try:
        stored = create()
    finally:
        clients.KUBO_ADD_PARAMS = original
    assert stored.pin_status == Status.FAILED
    assert "Kubo computed CID" in stored.pin_error


def test_kubo_failure_is_retried(ipfs: IpfsServer, files_conf, q_sync) -> None:
    files_conf(IPFS_API_URL=ipfs.url, PIN_MAX_ATTEMPTS=3)
    ipfs.fail("POST /api/v0/add", 500)
    stored = create()
    assert (stored.pin_status, stored.pin_attempts) == (Status.PENDING, 1)
    assert "injected failure 500" in stored.pin_error
    make_due(stored)
    assert sweep(stored).pin_status == Status.PINNED


def test_with_both_kubo_holds_the_bytes_and_the_service_pins_them(
    pinning: IpfsServer, files_conf
) -> None:
    origin = "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWOurNode"
    files_conf(IPFS_API_URL=pinning.url, PIN_ORIGINS=[origin])
    stored = create()
    assert stored.pin_status == Status.PINNED
    assert pinning.added[stored.cid] == TEXT
    assert json.loads(pinning.requests_to("POST /pins")[0].body)["origins"] == [origin]


def test_without_configuration_files_stay_unpinned_until_requested(
    ipfs: IpfsServer, files_conf, q_sync
) -> None:
    stored = create()
    assert stored.pin_status == Status.UNPINNED
    with pytest.raises(Conflict):
        services.stored_file_pin_request(file_id=stored.pk)

    files_conf(IPFS_PINNING_URL=ipfs.url, IPFS_PINNING_TOKEN="test-token")
    services.stored_file_pin_request(file_id=stored.pk)
    stored.refresh_from_db()
    assert stored.pin_status == Status.PINNED
    with pytest.raises(InvalidTransition):
        services.stored_file_pin_request(file_id=stored.pk)


def test_a_failed_pin_can_be_requested_again(pinning: IpfsServer, files_conf) -> None:
    files_conf(IPFS_PINNING_TOKEN="wrong")
    stored = create()
    assert stored.pin_status == Status.FAILED
    files_conf(IPFS_PINNING_TOKEN="test-token")
    services.stored_file_pin_request(file_id=stored.pk)
    stored.refresh_from_db()
    assert stored.pin_status == Status.PINNED
    assert stored.pin_error == ""


def test_the_sweep_schedule_is_made_once() -> None:
    from django_q.models import Schedule

    tasks.schedule_ensure()
    tasks.schedule_ensure()
    (schedule,) = Schedule.objects.filter(func=tasks.SWEEP_TASK)
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 1)


def test_a_retry_is_scheduled_for_its_due_time_not_the_next_sweep(
    pinning: IpfsServer, monkeypatch
) -> None:
    import ast

    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.models import Schedule
    from django_q.scheduler import scheduler

    def run_due_schedule(stored: StoredFile) -> StoredFile:
        """What the cluster does at the due time: the scheduler queues the one-off step (and
        deletes its schedule), a worker runs it."""
        (once,) = Schedule.objects.filter(func="files.tasks.stored_file_pin")
        assert once.schedule_type == Schedule.ONCE
        assert once.next_run == stored.pin_next_attempt_at
        make_due(stored)
        Schedule.objects.filter(pk=once.pk).update(next_run=timezone.now() - timedelta(seconds=1))
        later = timezone.now() + timedelta(hours=1)
        Schedule.objects.exclude(pk=once.pk).update(next_run=later)  # the sweep etc.: not due
        monkeypatch.setattr(Conf, "SYNC", False)
        broker = get_broker()
        broker.purge_queue()
        scheduler(broker=broker)
        assert broker.queue_size() == 1
        assert not Schedule.objects.filter(pk=once.pk).exists()
        broker.purge_queue()
        monkeypatch.setattr(Conf, "SYNC", True)
        tasks.stored_file_pin(*ast.literal_eval(once.args))
        stored.refresh_from_db()
        return stored

    pinning.fail("POST /pins", 503, times=2)
    stored = run_due_schedule(create())
    assert (stored.pin_status, stored.pin_attempts) == (Status.PENDING, 2)
    stored = run_due_schedule(stored)  # one schedule per file at a time
    assert stored.pin_status == Status.PINNED
    assert not Schedule.objects.filter(func="files.tasks.stored_file_pin").exists()
    assert len(pinning.requests_to("POST /pins")) == 3
