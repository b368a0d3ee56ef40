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
    # The library's errors subclass the first three; a lone multibase prefix ("b", "z", ...)
    # decodes to no bytes, and the library then indexes past the end (IndexError).
    except IndexError:
        raise InvalidCid("Not a CID: too short.") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidCid(f"Not a CID: {exc or 'unreadable'}") from None


def cid_normalize(text: str) -> str:
    """`text` as a CIDv1 in base32 (a CIDv0 becomes its v1 twin). Raises InvalidCid."""
    return _v1_base32(cid_parse(text))


def _v1_base32(cid: CID) -> str:
    if cid.version == 0:
        cid = cid.set(version=1)
    return str(cid.set(base="base32"))


def _binary_prefix(codec: str) -> bytes:
    """The bytes before the digest in a binary CIDv1 of `codec` with a sha2-256 multihash
    (version, codec and multihash code and length, as varints), as the library writes them."""
    zeros = bytes(32)
    return bytes(CID("base32", 1, codec, multihash.wrap(zeros, "sha2-256")))[: -len(zeros)]


# The library checks its arguments' types at run time, which costs more than the hashing of a
# leaf; a file has a CID per 256 KiB chunk, so those are the library's prefix plus the digest.
RAW_PREFIX = _binary_prefix("raw")
DAG_PB_PREFIX = _binary_prefix("dag-pb")
MULTIHASH_PREFIX = multihash.wrap(bytes(32), "sha2-256")[:-32]  # a CIDv0 is its multihash


def cid_raw(digest: bytes) -> bytes:
    """The binary CIDv1 of a raw block with this SHA-256 digest."""
    return RAW_PREFIX + digest


def cid_dag_pb(digest: bytes) -> bytes:
    """The binary CIDv1 of a dag-pb block with this SHA-256 digest."""
    return DAG_PB_PREFIX + digest


def cid_dag_pb_v0(digest: bytes) -> bytes:
    """The binary CIDv0 of a dag-pb block (what plain `ipfs add` links with)."""
    return MULTIHASH_PREFIX + digest


def cid_text(binary: bytes) -> str:
    """A binary CID as text: CIDv1, base32 (a CIDv0 becomes its v1 twin)."""
    return _v1_base32(CID.decode(binary))
