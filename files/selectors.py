"""Reads of stored files. Files are public by CID: the CID is derived from the bytes, so knowing
it proves nothing secret, and deliverables and evidence must be verifiable by anyone."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator

from django.core.files import File
from django.db.models import QuerySet

from files.cid import InvalidCid, cid_normalize
from files.conf import file_storage, files_settings, gateway_url
from files.errors import FileIntegrityError
from files.models import StoredFile
from files.unixfs import CHUNK_SIZE, UnixfsHasher
from stxworx.errors import InvalidInput, NotFound

logger = logging.getLogger(__name__)

IPFS_SCHEME = "ipfs://"


def stored_file_get(*, cid: str) -> StoredFile:
    """The file with this CID (any textual form of a CIDv0/v1 is accepted and normalised).

    Raises NotFound (404) for text that is not a CID (nothing is at that path) and for an
    unknown one."""
    try:
        normal = cid_normalize(cid)
    except InvalidCid as exc:
        raise NotFound(f"Not a CID: {exc}.", code="file_not_found") from None
    found = StoredFile.objects.filter(cid=normal).first()
    if found is None:
        raise NotFound(f"No file with CID {normal}.", code="file_not_found")
    return found


def stored_file_for_attachment(*, cid: str, field: str) -> StoredFile:
    """The uploaded file a user attaches by CID (dispute evidence's `fileCid`, ...).

    Unlike stored_file_get (a URL: 404), a CID in a request body is input: both a malformed CID
    and one never uploaded here raise InvalidInput (400) on `field`."""
    try:
        normal = cid_normalize(cid.strip() if isinstance(cid, str) else cid)
    except InvalidCid as exc:
        raise InvalidInput(str(exc), field=field) from None
    return _uploaded(normal, field=field, missing=f"No file with CID {normal} was uploaded here")


def ipfs_link_target(link: str) -> str | None:
    """What an `ipfs://` link names (the text after the scheme, slashes around it dropped, not
    yet checked as a CID); None for any other link."""
    if not link.lower().startswith(IPFS_SCHEME):
        return None
    return link[len(IPFS_SCHEME) :].strip("/")


def ipfs_link_cid(link: str) -> str | None:
    """The normalised CID of an `ipfs://<cid>` link; None for any other link or a malformed CID
    (for display: input is checked by ipfs_link_file)."""
    target = ipfs_link_target(link) if isinstance(link, str) else None
    if target is None:
        return None
    try:
        return cid_normalize(target)
    except InvalidCid:
        return None


def ipfs_link_file(link: str, *, field: str = "submissionLink") -> StoredFile | None:
    """For a link a user gave (a milestone's `submissionLink`, ...): None when it is not an
    `ipfs://` link; the StoredFile when it is the `ipfs://<cid>` of an uploaded file.

    Raises InvalidInput on `field` for an `ipfs://` link whose CID is malformed or was never
    uploaded here (the backend vouches only for bytes it holds and re-hashes)."""
    target = ipfs_link_target(link)
    if target is None:
        return None
    try:
        normal = cid_normalize(target)
    except InvalidCid as exc:
        raise InvalidInput(f"{link} is not an ipfs://<cid> link: {exc}", field=field) from None
    return _uploaded(normal, field=field, missing=f"{link} is not a file uploaded here")


def _uploaded(normal: str, *, field: str, missing: str) -> StoredFile:
    """The StoredFile of a normalised CID; InvalidInput on `field` (`missing`, then how to
    upload it) when none was uploaded here."""
    found = StoredFile.objects.filter(cid=normal).first()
    if found is None:
        raise InvalidInput(f"{missing}; upload it with POST /api/files first.", field=field)
    return found


def stored_files_by_cid(*, cids: Iterable[str]) -> dict[str, StoredFile]:
    """The uploaded files among `cids` (stored, normalised CIDs, as evidence and ipfs://
    submission links hold them), keyed by CID; one query. For pages that show attachments with
    their pin status (`pin_status`, `pin_error`, `pinned_at`): reviewers' views, not public."""
    wanted = {cid for cid in cids if cid}
    if not wanted:
        return {}
    return {stored.cid: stored for stored in StoredFile.objects.filter(cid__in=wanted)}


def stored_file_for_link(link: str) -> StoredFile | None:
    """The uploaded file an `ipfs://<cid>` link names, or None (not an ipfs link, a malformed
    CID, or bytes never uploaded here). Never raises: for rendering a stored link."""
    cid = ipfs_link_cid(link)
    return None if cid is None else StoredFile.objects.filter(cid=cid).first()


def stored_file_list(*, uploaded_by: str) -> QuerySet[StoredFile]:
    return StoredFile.objects.filter(uploaded_by=uploaded_by).order_by("-pk")


def stored_file_check_present(*, stored: StoredFile) -> None:
    """A cheap check for HEAD: the bytes are in storage with the recorded size (a stat, no
    hashing). Raises FileIntegrityError (409) when they are gone or their size differs."""
    storage = file_storage()
    try:
        size = storage.size(stored.storage_name)
    except OSError:  # FileNotFoundError, or a storage that cannot be read
        raise _missing(stored) from None
    if size != stored.size:
        raise _changed(stored, size)


def stored_file_stream_verified(*, stored: StoredFile) -> VerifiedStream:
    """The file's bytes in chunks, after re-hashing them to its CID (the CID, not just a SHA-256,
    so what is served is what the CID names). One hashing pass (the CID alone: it covers every
    byte); a file of at most FILES["VERIFY_AHEAD_BYTES"] is also read once, kept in memory
    between the check and the response. A larger one is read again to stream it, and the open
    file's identity (inode, size, mtime and ctime, which no one can set back) is compared
    before the last chunk goes: bytes changed meanwhile never complete a response (it is cut
    short; its Content-Length tells the client). Storage with no local file to stat is hashed
    again while streaming instead.

    Raises FileIntegrityError (409) when the bytes are gone or no longer match."""
    try:
        handle = file_storage().open(stored.storage_name, "rb")
    except FileNotFoundError:
        raise _missing(stored) from None
    try:
        if handle.size != stored.size:
            raise _changed(stored, handle.size)
        before = _identity(handle)
        hasher = UnixfsHasher(whole_sha256=False)
        limit = files_settings()["VERIFY_AHEAD_BYTES"]
        kept: list[bytes] | None = []
        while chunk := handle.read(CHUNK_SIZE):
            hasher.update(chunk)
            if kept is not None and hasher.size <= limit:
                kept.append(chunk)
            else:
                kept = None  # too large to hold: read again to stream it
        _verify(hasher, stored)
        if kept is None:
            handle.seek(0)
    except BaseException:
        handle.close()
        raise
    if kept is not None:
        handle.close()
        return VerifiedStream(iter(kept), None)
    return VerifiedStream(_read_again(handle, stored, before), handle)


class VerifiedStream:
    """An iterator of a file's chunks that closes the file when closed (a response closes its
    iterator, even one never started)."""

    def __init__(self, chunks: Iterator[bytes], handle: File | None) -> None:
        self._chunks = chunks
        self._handle = handle

    def __iter__(self) -> VerifiedStream:
        return self

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        if self._handle is not None:
            self._handle.close()


def _read_again(handle: File, stored: StoredFile, before: tuple | None) -> Iterator[bytes]:
    """Stream a checked file, holding the last chunk back until the file is known unchanged."""
    hasher = UnixfsHasher(whole_sha256=False) if before is None else None
    held = b""
    while chunk := handle.read(CHUNK_SIZE):
        if hasher is not None:
            hasher.update(chunk)
        if held:
            yield held
        held = chunk
    if hasher is not None:
        _verify(hasher, stored)
    elif _identity(handle) != before:
        logger.error("the bytes of %s changed while being served", stored.cid)
        raise _integrity_error(stored, "The stored bytes changed while being served.")
    yield held


def _identity(handle: File) -> tuple | None:
    """What changes whenever a local file's bytes do; None when the storage has no such file."""
    try:
        st = os.fstat(handle.fileno())
    except (AttributeError, OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _verify(hasher: UnixfsHasher, stored: StoredFile) -> None:
    if hasher.size != stored.size or hasher.cid() != stored.cid:
        logger.error("the stored bytes of %s hash to %s", stored.cid, hasher.cid())
        raise _integrity_error(stored, "The stored bytes no longer match the file's CID.")


def _missing(stored: StoredFile) -> FileIntegrityError:
    logger.error("the bytes of %s are missing from storage", stored.cid)
    return _integrity_error(stored, "The file's bytes are missing.")


def _changed(stored: StoredFile, size: int) -> FileIntegrityError:
    logger.error("the stored bytes of %s are %d bytes, not %d", stored.cid, size, stored.size)
    return _integrity_error(stored, "The stored bytes no longer match the file's CID.")


def _integrity_error(stored: StoredFile, message: str) -> FileIntegrityError:
    details = {"cid": stored.cid, "sha256": stored.sha256, "gateway": gateway_url(stored.cid)}
    return FileIntegrityError(message, extra=details)
