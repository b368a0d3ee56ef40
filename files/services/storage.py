"""Keeping an uploaded file: checked (size, type, optional expected CID), stored under its CID
in Django's storage, recorded once per CID, and queued for pinning."""

from __future__ import annotations

import logging
import os
import secrets
import unicodedata
from dataclasses import dataclass
from typing import IO

from django.core.files import File
from django.db import transaction
from django.db.models import Sum

from files.cid import InvalidCid, cid_normalize
from files.conf import file_storage, files_settings, pinning_configured
from files.errors import FileTooLarge, FileTypeNotAllowed, StorageQuotaExceeded
from files.models import StoredFile
from files.services.pinning import pin_enqueue
from files.sniff import HEAD_BYTES, content_matches_type, content_type_normalize
from files.unixfs import CHUNK_SIZE, UnixfsHasher
from stxworx.errors import InvalidInput

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Digest:
    cid: str
    sha256: str
    size: int

    @classmethod
    def of(cls, hasher: UnixfsHasher) -> Digest:
        return cls(cid=hasher.cid(), sha256=hasher.sha256, size=hasher.size)


def file_digest(content: IO[bytes]) -> Digest:
    """CID, SHA-256 and size of everything `content` holds from its start, read in chunks."""
    content.seek(0)
    hasher = UnixfsHasher()
    while chunk := content.read(CHUNK_SIZE):
        hasher.update(chunk)
    content.seek(0)
    return Digest.of(hasher)


def stored_file_create(
    *,
    content: File,
    name: str,
    content_type: str | None,
    uploaded_by: str,
    digest: Digest | None = None,
    expected_cid: str | None = None,
) -> tuple[StoredFile, bool]:
    """Keep `content` as a content-addressed file; returns (file, created).

    `digest` is what the upload handler computed while receiving the bytes (else they are read
    once here). The same bytes are one file: a second upload returns the first record (its name
    and uploader stay), and rewrites the stored bytes only if they were lost or damaged.
    A new file is `pending` and queued for pinning when a pinning service or Kubo is configured,
    else `unpinned`.

    Raises FileTooLarge (413), StorageQuotaExceeded (413: new bytes past the uploader's
    FILES["QUOTA_BYTES_PER_USER"]), FileTypeNotAllowed (415: not allowed, or bytes that
    contradict the type), InvalidInput (400: empty; `cid_mismatch` when the bytes are not
    `expected_cid`)."""
    conf = files_settings()
    kind = content_type_normalize(content_type)
    digest = digest or file_digest(content)
    _check(content, digest, kind, expected_cid, conf)
    known = StoredFile.objects.filter(cid=digest.cid).values_list("storage_name", flat=True)
    known_name = known.first()
    if known_name is None:
        _check_quota(uploaded_by, digest.size, conf["QUOTA_BYTES_PER_USER"], lock=False)
    storage_name = _store(content, digest, known_name or f"{conf['STORAGE_PREFIX']}/{digest.cid}")
    pending = pinning_configured()
    with transaction.atomic(durable=True):
        if not StoredFile.objects.filter(cid=digest.cid).exists():
            # Again under the uploader's row lock: concurrent uploads of one user are counted
            # one after the other. If this refuses, the bytes stay under their CID's name
            # (unreferenced; the same upload later finds them intact and keeps them).
            _check_quota(uploaded_by, digest.size, conf["QUOTA_BYTES_PER_USER"], lock=True)
        stored, created = StoredFile.objects.get_or_create(
            cid=digest.cid,
            defaults={
                "sha256": digest.sha256,
                "size": digest.size,
                "name": _clean_name(name),
                "content_type": kind,
                "uploaded_by": uploaded_by,
                "storage_name": storage_name,
                "pin_status": (
                    StoredFile.PinStatus.PENDING if pending else StoredFile.PinStatus.UNPINNED
                ),
            },
        )
        if created and pending:
            transaction.on_commit(lambda: pin_enqueue(stored.pk))
    if stored.storage_name != storage_name:  # a concurrent upload of the same bytes won
        file_storage().delete(storage_name)
    return stored, created


def _check_quota(uploaded_by: str, size: int, quota: int | None, *, lock: bool) -> None:
    """Refuse a new file that would take the uploader's files past `quota` bytes (None: no
    quota). Only files they uploaded first count: a second upload of known bytes is free."""
    if quota is None:
        return
    if lock:
        from accounts.models import User

        list(User.objects.select_for_update().filter(address=uploaded_by).values_list("pk"))
    used = (
        StoredFile.objects.filter(uploaded_by=uploaded_by).aggregate(total=Sum("size"))["total"]
        or 0
    )
    if used + size > quota:
        raise StorageQuotaExceeded(used=used, size=size, quota=quota)


def _check(content: File, digest: Digest, kind: str, expected_cid: str | None, conf) -> None:
    if digest.size > conf["MAX_BYTES"]:
        raise FileTooLarge(conf["MAX_BYTES"])
    if digest.size == 0:
        raise InvalidInput("The file is empty.", field="file", code="file_empty")
    if kind not in conf["ALLOWED_CONTENT_TYPES"]:
        allowed = ", ".join(conf["ALLOWED_CONTENT_TYPES"])
        raise FileTypeNotAllowed(f"{kind} is not accepted; allowed: {allowed}.", field="file")
    content.seek(0)
    head = content.read(HEAD_BYTES)
    content.seek(0)
    if not content_matches_type(head, kind):
        raise FileTypeNotAllowed(f"The bytes are not {kind}.", field="file")
    if expected_cid:
        _check_expected_cid(expected_cid, digest.cid)


def _check_expected_cid(expected: str, actual: str) -> None:
    try:
        normal = cid_normalize(expected.strip())
    except InvalidCid as exc:
        raise InvalidInput(str(exc), field="cid") from None
    if normal != actual:
        raise InvalidInput(
            f"The bytes received have CID {actual}, not {normal}.",
            field="cid",
            code="cid_mismatch",
            extra={"computedCid": actual},
        )


def _store(content: File, digest: Digest, name: str) -> str:
    """Save the bytes as `name` (a temporary upload is moved, not copied); bytes already there
    are kept if intact, replaced if not. Returns the name the storage used (another when a
    concurrent upload took `name` first, on a storage `_save` cannot write atomically)."""
    storage = file_storage()
    if storage.exists(name):
        if _intact(name, digest):
            return name
        logger.warning("stored bytes of %s were damaged; replacing them with an upload", name)
        if _local_path(name) is None:
            storage.delete(name)
    content.seek(0)
    return _save(content, name)


def _local_path(name: str) -> str | None:
    """The file system path of `name` when the storage has one (local media), else None."""
    try:
        return file_storage().path(name)
    except NotImplementedError:
        return None


def _save(content: File, name: str) -> str:
    """Store the bytes as `name`. On local media they are written under a temporary name beside
    it and moved into place with os.replace, so `name` never holds part of them: a concurrent
    upload of the same bytes, checking what is there, cannot take a file still being written
    for damaged (and replace it under its writer). A name is a CID, so every writer moves the
    same bytes into place and the last replace changes nothing. Elsewhere, storage.save."""
    storage, final = file_storage(), _local_path(name)
    if final is None:
        return storage.save(name, content)
    temporary = storage.save(f"{name}.{secrets.token_hex(8)}.part", content)
    try:
        os.replace(storage.path(temporary), final)
    except BaseException:
        storage.delete(temporary)
        raise
    return name


def _intact(name: str, digest: Digest) -> bool:
    """Whether `name` holds these bytes (False when it is gone meanwhile)."""
    try:
        with file_storage().open(name, "rb") as existing:
            return file_digest(existing) == digest
    except FileNotFoundError:
        return False


def _clean_name(name: str) -> str:
    """A display and download name: the base name, no control characters, at most 255."""
    base = os.path.basename((name or "").replace("\\", "/"))
    printable = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return (printable or "file")[:255]
