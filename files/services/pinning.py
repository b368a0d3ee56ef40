"""The pin status of a file and its transitions (StoredFile.TRANSITIONS).

A pending file is advanced one step at a time by stored_file_pin_advance, from a django-q2 task
queued at upload and from a sweep scheduled every minute (files.tasks): submit the pin (Kubo
add and/or POST /pins), or poll a queued pin (GET /pins/{requestid}). A step first *claims* the
file (a short locked write that pushes `pin_next_attempt_at` past the step's deadline, so no
other worker takes it), talks to the network with no lock held, then locks again and records the
outcome only if its claim still stands. Transient failures back off exponentially
(PIN_RETRY_SECONDS, doubling) up to PIN_MAX_ATTEMPTS, then the file is `failed`; each retry
(and each poll of a queued pin) is scheduled for its due time (pin_schedule_retry)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from files.conf import file_storage, files_settings, pinning_configured
from files.errors import PinError
from files.ipfs import KuboClient, PinningServiceClient, PinResult
from files.models import StoredFile
from stxworx.errors import Conflict, InvalidTransition

logger = logging.getLogger(__name__)
PIN_TASK = "files.tasks.stored_file_pin"
Status = StoredFile.PinStatus


def pin_enqueue(file_id: int) -> None:
    """Queue one pinning step for the file (run after the commit that made it pending)."""
    from django_q.tasks import async_task

    async_task(PIN_TASK, file_id, task_name=f"pin file {file_id}")


def pin_schedule_retry(file_id: int, at: datetime) -> None:
    """Queue the file's next step for `at` (a retry or a poll) as a one-off django-q2 schedule,
    replacing the file's earlier one. django-q2's scheduler looks at schedules every ~30 s, so
    the step runs within ~30 s of `at`; the minute sweep stays as the safety net (a step that
    finds the file not due, or already advanced, does nothing)."""
    from django_q.models import Schedule

    args = repr((file_id,))
    Schedule.objects.filter(func=PIN_TASK, args=args, schedule_type=Schedule.ONCE).delete()
    Schedule.objects.create(
        name=f"files: next pinning step of file {file_id}",
        func=PIN_TASK,
        args=args,
        schedule_type=Schedule.ONCE,
        repeats=-1,
        next_run=at,
    )


def stored_file_pin_request(*, file_id: int) -> StoredFile:
    """unpinned | failed -> pending: ask for the file to be pinned (again), e.g. after pinning
    was configured, or a failure fixed. Raises Conflict when nothing is configured to pin with,
    InvalidTransition when the file is pending or pinned already."""
    if not pinning_configured():
        raise Conflict("Set IPFS_PINNING_URL or IPFS_API_URL first.", code="pinning_disabled")
    with transaction.atomic(durable=True):
        stored = StoredFile.objects.select_for_update().get(pk=file_id)
        _guard(stored, Status.PENDING)
        stored.pin_status, stored.pin_attempts, stored.pin_error = Status.PENDING, 0, ""
        stored.pin_request_id, stored.pin_next_attempt_at = "", None
        stored.save(update_fields=[*_PIN_FIELDS, "updated_at"])
        transaction.on_commit(lambda: pin_enqueue(stored.pk))
    return stored


def stored_files_pin_due(*, limit: int = 100) -> int:
    """Advance every pending file whose next step is due (the sweep). Returns how many."""
    now = timezone.now()
    due = (
        StoredFile.objects.filter(pin_status=Status.PENDING)
        .exclude(pin_next_attempt_at__gt=now)
        .order_by("pin_next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    ids = list(due)
    for file_id in ids:
        stored_file_pin_advance(file_id=file_id)
    return len(ids)


def stored_file_pin_advance(*, file_id: int) -> StoredFile:
    """One pinning step for a pending file that is due; anything else is left as it is (so the
    task is idempotent). Network errors never escape: they become the file's status."""
    claim = _claim(file_id)
    if claim is None:
        return StoredFile.objects.get(pk=file_id)
    try:
        outcome = _step(claim)
    except PinError as exc:
        outcome = _Outcome.from_error(exc, claim)
    return _record(claim, outcome)


# --- the step ------------------------------------------------------------------------------

_PIN_FIELDS = [
    "pin_status",
    "pin_service",
    "pin_request_id",
    "pin_attempts",
    "pin_error",
    "pin_next_attempt_at",
    "pinned_at",
]


@dataclass
class _Outcome:
    status: str
    service: str = ""
    request_id: str = ""
    error: str = ""
    attempts: int = 0
    next_at: datetime | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_error(cls, exc: PinError, claim: StoredFile) -> _Outcome:
        conf = files_settings()
        attempts = claim.pin_attempts + 1
        if not exc.transient or attempts >= conf["PIN_MAX_ATTEMPTS"]:
            tail = "" if not exc.transient else f" (gave up after {attempts} attempts)"
            return cls(Status.FAILED, claim.pin_service, claim.pin_request_id, f"{exc}{tail}")
        delay = conf["PIN_RETRY_SECONDS"] * 2 ** (attempts - 1)
        return cls(
            Status.PENDING,
            claim.pin_service,
            claim.pin_request_id,
            f"attempt {attempts} failed: {exc}",
            attempts,
            timezone.now() + timedelta(seconds=delay),
        )


def _claim(file_id: int) -> StoredFile | None:
    conf = files_settings()
    now = timezone.now()
    lease = timedelta(seconds=3 * conf["PIN_TIMEOUT_SECONDS"] + 30)
    with transaction.atomic(durable=True):
        stored = StoredFile.objects.select_for_update().filter(pk=file_id).first()
        if stored is None or stored.pin_status != Status.PENDING:
            return None
        if stored.pin_next_attempt_at is not None and stored.pin_next_attempt_at > now:
            return None  # not due, or another worker holds it
        stored.pin_next_attempt_at = now + lease
        stored.save(update_fields=["pin_next_attempt_at", "updated_at"])
    return stored


def _step(stored: StoredFile) -> _Outcome:
    conf = files_settings()
    timeout = conf["PIN_TIMEOUT_SECONDS"]
    if conf["IPFS_PINNING_URL"]:
        if conf["IPFS_API_URL"] and not stored.pin_request_id:
            _kubo_add(stored, KuboClient(conf["IPFS_API_URL"], timeout=timeout))
        client = PinningServiceClient(
            conf["IPFS_PINNING_URL"], conf["IPFS_PINNING_TOKEN"], timeout=timeout
        )
        try:
            return _from_pin(_pin_service_step(stored, client, conf))
        finally:
            client.close()
    if conf["IPFS_API_URL"]:
        _kubo_add(stored, KuboClient(conf["IPFS_API_URL"], timeout=timeout))
        return _Outcome(Status.PINNED, "kubo")
    raise PinError("no pinning service or Kubo node is configured", transient=False)


def _pin_service_step(stored: StoredFile, client: PinningServiceClient, conf) -> PinResult:
    if stored.pin_request_id:
        known = client.pin_get(request_id=stored.pin_request_id)
        if known is not None:
            return known
        logger.warning(
            "pin request %s of %s unknown to the service; asking again",
            stored.pin_request_id,
            stored.cid,
        )
    meta = {"app": "stxworx", "sha256": stored.sha256}
    return client.pin_add(cid=stored.cid, name=stored.name, origins=conf["PIN_ORIGINS"], meta=meta)


def _from_pin(result: PinResult) -> _Outcome:
    if result.status == "pinned":
        return _Outcome(Status.PINNED, "pinning", result.request_id)
    if result.status == "failed":
        why = f"the pinning service could not pin it {result.info}".strip()
        return _Outcome(Status.FAILED, "pinning", result.request_id, why)
    poll = timedelta(seconds=files_settings()["PIN_POLL_SECONDS"])
    return _Outcome(Status.PENDING, "pinning", result.request_id, "", 0, timezone.now() + poll)


def _kubo_add(stored: StoredFile, kubo: KuboClient) -> None:
    with file_storage().open(stored.storage_name, "rb") as content:
        cid = kubo.add(content=content)
    if cid != stored.cid:
        raise PinError(f"Kubo computed CID {cid}, not {stored.cid}", transient=False)


def _record(claim: StoredFile, outcome: _Outcome) -> StoredFile:
    with transaction.atomic(durable=True):
        stored = StoredFile.objects.select_for_update().get(pk=claim.pk)
        if (
            stored.pin_status != Status.PENDING
            or stored.pin_next_attempt_at != claim.pin_next_attempt_at
        ):
            return stored  # re-requested or taken over meanwhile: this step's result is stale
        _guard(stored, outcome.status)
        stored.pin_status = outcome.status
        stored.pin_service = outcome.service
        stored.pin_request_id = outcome.request_id
        stored.pin_attempts = outcome.attempts
        stored.pin_error = outcome.error[:500]
        stored.pin_next_attempt_at = outcome.next_at
        if outcome.status == Status.PINNED:
            stored.pinned_at = timezone.now()
        stored.save(update_fields=[*_PIN_FIELDS, "updated_at"])
        if outcome.status == Status.PENDING and outcome.next_at is not None:
            file_id, at = stored.pk, outcome.next_at
            transaction.on_commit(lambda: pin_schedule_retry(file_id, at))
    if outcome.status == Status.FAILED:
        logger.error("pinning %s failed: %s", stored.cid, stored.pin_error)
    return stored


def _guard(stored: StoredFile, status: str) -> None:
    if not stored.can_become(status):
        raise InvalidTransition(
            f"A file whose pin is {stored.pin_status} cannot become {status}.",
            extra={"pinStatus": stored.pin_status},
        )
