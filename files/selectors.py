"""Reads of stored files. Files are public by CID: the CID is derived from the bytes, so knowing
it proves nothing secret, and deliverables and evidence must be verifiable by anyone."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator

from django.core.files import File
from django.db.models import QuerySet

from files.cid import InvalidCid, cid_normalize
from files.conf import file_storage, gateway_url
from files.errors import FileIntegrityError
from files.models import StoredFile
from files.unixfs import CHUNK_SIZE, UnixfsHasher
from stxworx.errors import InvalidInput, NotFound

logger = logging.getLogger(__name__)

IPFS_SCHEME = "ipfs://"


def stored_file_get(*, cid: str) -> StoredFile:
    """The file with this CID (any textual form of a CIDv0/v1 is accepted and normalised).

    Raises InvalidInput (400) for text that is not a CID, NotFound (404) for an unknown one."""
    try:
        normal = cid_normalize(cid)
    except InvalidCid as exc:
        raise InvalidInput(str(exc), field="cid") from None
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
    found = StoredFile.objects.filter(cid=normal).first()
    if found is None:
        raise InvalidInput(
            f"No file with CID {normal} was uploaded here; upload it with POST /api/files first.",
            field=field,
        )
    return found


def ipfs_link_cid(link: str) -> str | None:
    """The normalised CID of an `ipfs://<cid>` link; None for any other link or a malformed CID
    (for display: input is checked by ipfs_link_file)."""
    if not isinstance(link, str) or not link.lower().startswith(IPFS_SCHEME):
        return None
    try:
        return cid_normalize(link[len(IPFS_SCHEME) :].strip("/"))
    except InvalidCid:
        return None


def ipfs_link_file(link: str, *, field: str = "submissionLink") -> StoredFile | None:
    """For a link a user gave (a milestone's `submissionLink`, ...): None when it is not an
    `ipfs://` link; the StoredFile when it is the `ipfs://<cid>` of an uploaded file.

    Raises InvalidInput on `field` for an `ipfs://` link whose CID is malformed or was never
    uploaded here (the backend vouches only for bytes it holds and re-hashes)."""
    if not link.lower().startswith(IPFS_SCHEME):
        return None
    target = link[len(IPFS_SCHEME) :].strip("/")
    try:
        normal = cid_normalize(target)
    except InvalidCid as exc:
        raise InvalidInput(f"{link} is not an ipfs://<cid> link: {exc}", field=field) from None
    found = StoredFile.objects.filter(cid=normal).first()
    if found is None:
        raise InvalidInput(
            f"{link} is not a file uploaded here; upload it with POST /api/files first.",
            field=field,
        )
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


def stored_file_open_verified(*, stored: StoredFile) -> File:
    """The file's bytes, open at the start, after re-hashing them against its CID (the CID is
    recomputed, not just the SHA-256, so what is served is what the CID names).

    Raises FileIntegrityError (409) when the bytes are gone or no longer match."""
    try:
        handle = file_storage().open(stored.storage_name, "rb")
    except FileNotFoundError:
        logger.error("the bytes of %s are missing from storage", stored.cid)
        raise _integrity_error(stored, "The file's bytes are missing.") from None
    hasher = UnixfsHasher()
    while chunk := handle.read(CHUNK_SIZE):
        hasher.update(chunk)
    if hasher.size != stored.size or hasher.cid() != stored.cid:
        handle.close()
        logger.error("the stored bytes of %s hash to %s", stored.cid, hasher.cid())
        raise _integrity_error(stored, "The stored bytes no longer match the file's CID.")
    handle.seek(0)
    return handle


def verified_chunks(handle: File, *, stored: StoredFile) -> Iterator[bytes]:
    """Stream an open file, hashing again as it goes: the last chunk is held back until the
    whole SHA-256 matches, so bytes changed after stored_file_open_verified never complete a
    response (it is cut short, and its Content-Length tells the client)."""
    hasher = hashlib.sha256()
    held = b""
    try:
        while chunk := handle.read(CHUNK_SIZE):
            hasher.update(chunk)
            if held:
                yield held
            held = chunk
        if hasher.hexdigest() != stored.sha256:
            logger.error("the bytes of %s changed while being served", stored.cid)
            raise _integrity_error(stored, "The stored bytes changed while being served.")
        if held:
            yield held
    finally:
        handle.close()


def _integrity_error(stored: StoredFile, message: str) -> FileIntegrityError:
    details = {"cid": stored.cid, "sha256": stored.sha256, "gateway": gateway_url(stored.cid)}
    return FileIntegrityError(message, extra=details)
