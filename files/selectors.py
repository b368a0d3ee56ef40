"""Reads of stored files. Files are public by CID: the CID is derived from the bytes, so knowing
it proves nothing secret, and deliverables and evidence must be verifiable by anyone."""

from __future__ import annotations

from files.cid import InvalidCid, cid_normalize
from files.models import StoredFile
from stxworx.errors import InvalidInput, NotFound

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


def stored_file_list(*, uploaded_by: str) -> list[StoredFile]:
    return list(StoredFile.objects.filter(uploaded_by=uploaded_by).order_by("-pk"))
