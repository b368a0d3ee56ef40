"""CIDs as text: parse any form a user may paste (CIDv0 `Qm…`, CIDv1 in any multibase) and
normalise it to the one form this backend stores, CIDv1 in base32 (what `ipfs add
--cid-version=1` prints). The multiformats library does the CID, multihash and multibase work."""

from __future__ import annotations

from multiformats import CID, multihash

MAX_CID_TEXT = 128  # a sha2-256 CIDv1 in base32 is 59 characters; allow other bases and hashes


class InvalidCid(ValueError):
    pass


def cid_parse(text: str) -> CID:
    """The CID written in `text`. Raises InvalidCid with the reason."""
    if not text or len(text) > MAX_CID_TEXT:
        raise InvalidCid("Not a CID: empty or too long.")
    try:
        return CID.decode(text)
    except (ValueError, KeyError, TypeError) as exc:  # the library's errors subclass these
        raise InvalidCid(f"Not a CID: {exc}") from None


def cid_normalize(text: str) -> str:
    """`text` as a CIDv1 in base32 (a CIDv0 becomes its v1 twin). Raises InvalidCid."""
    cid = cid_parse(text)
    if cid.version == 0:
        cid = cid.set(version=1)
    return str(cid.set(base="base32"))


def cid_raw(digest: bytes) -> CID:
    """The CIDv1 of a raw block with this SHA-256 digest."""
    return CID("base32", 1, "raw", multihash.wrap(digest, "sha2-256"))


def cid_dag_pb(digest: bytes) -> CID:
    """The CIDv1 of a dag-pb block with this SHA-256 digest."""
    return CID("base32", 1, "dag-pb", multihash.wrap(digest, "sha2-256"))


def cid_text(binary: bytes) -> str:
    """A binary CID as text: base32 for CIDv1."""
    return str(CID.decode(binary).set(base="base32"))
