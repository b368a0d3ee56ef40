"""The CID `ipfs add --cid-version=1` gives a file, computed while the bytes stream past.

Kubo's (and Helia's) defaults for CIDv1: the file is cut into 256 KiB chunks; each chunk is a
raw block (raw leaves); a file of at most one chunk *is* that raw block; otherwise the leaves are
linked by dag-pb nodes carrying UnixFS `File` data, in a balanced tree of at most 174 links per
node (all leaves at the same depth, every node full but the rightmost). This module builds that
tree and encodes its nodes (the protobuf of dag-pb and UnixFS); files/cid.py and the multiformats
library make the CIDs. Checked against ipfs-unixfs-importer in tests/data/ipfs/cid_vectors.json.

Memory: one chunk of pending bytes plus one small link (a CID and two sizes) per chunk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from files.cid import cid_dag_pb, cid_dag_pb_v0, cid_raw, cid_text

CHUNK_SIZE = 256 * 1024
MAX_LINKS = 174
UNIXFS_FILE = 2  # unixfs.proto Data.DataType.File


@dataclass(frozen=True)
class Link:
    cid: bytes  # binary CID
    tsize: int  # bytes of the block and everything below it (dag-pb PBLink.Tsize)
    filesize: int  # bytes of file content below it (UnixFS blocksizes)


# --- protobuf, only what dag-pb and UnixFS need ---------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _field_bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def unixfs_file_data(filesize: int, blocksizes: list[int]) -> bytes:
    """UnixFS `Data` of a file node: Type=File, filesize, one blocksize per child. proto2's
    repeated scalars are not packed, so each blocksize is its own field."""
    fields = [_field_varint(1, UNIXFS_FILE), _field_varint(3, filesize)]
    fields += [_field_varint(4, size) for size in blocksizes]
    return b"".join(fields)


def unixfs_leaf_data(chunk: bytes | bytearray | memoryview) -> bytes:
    """UnixFS `Data` of a dag-pb leaf (plain `ipfs add`, CIDv0): Type=File, the bytes (left
    out when empty, as Kubo does), filesize."""
    data = _field_bytes(2, bytes(chunk)) if len(chunk) else b""
    return _field_varint(1, UNIXFS_FILE) + data + _field_varint(3, len(chunk))


def dag_pb_node(links: list[Link], data: bytes) -> bytes:
    """A PBNode in dag-pb's canonical order: the links (field 2) first, then Data (field 1).
    Each PBLink holds Hash, an empty Name (kubo and js write it) and Tsize."""
    encoded = [
        _field_bytes(
            2, _field_bytes(1, link.cid) + _field_bytes(2, b"") + _field_varint(3, link.tsize)
        )
        for link in links
    ]
    return b"".join(encoded) + _field_bytes(1, data)


# --- the DAG -----------------------------------------------------------------------------------


def _parent(children: list[Link], node_cid: Callable[[bytes], bytes]) -> Link:
    filesize = sum(child.filesize for child in children)
    block = dag_pb_node(children, unixfs_file_data(filesize, [c.filesize for c in children]))
    cid = node_cid(hashlib.sha256(block).digest())
    return Link(cid, len(block) + sum(child.tsize for child in children), filesize)


def balanced_root(
    leaves: list[Link],
    max_links: int = MAX_LINKS,
    node_cid: Callable[[bytes], bytes] = cid_dag_pb,
) -> Link:
    """The root of the balanced tree over `leaves`: group them by `max_links` under parents,
    then the parents, until one node is left. A single leaf is its own root."""
    level = leaves
    while len(level) > 1:
        level = [
            _parent(level[i : i + max_links], node_cid) for i in range(0, len(level), max_links)
        ]
    return level[0]


class UnixfsHasher:
    """Feed bytes with update(); cid() gives the file's CIDv1 (base32), sha256 its SHA-256."""

    def __init__(
        self,
        chunk_size: int = CHUNK_SIZE,
        max_links: int = MAX_LINKS,
        *,
        raw_leaves: bool = True,
        whole_sha256: bool = True,
    ) -> None:
        self.chunk_size = chunk_size
        self.max_links = max_links
        # False: plain `ipfs add`'s layout (dag-pb leaves, nodes linked by CIDv0; the root's CIDv1
        # is returned). Not used for uploads: it lets the tests check the tree and the protobuf
        # against a tool that builds only that layout (Debian's ipfs_cid).
        self.raw_leaves = raw_leaves
        self._node_cid = cid_dag_pb if raw_leaves else cid_dag_pb_v0
        self.size = 0
        # False: only the CID (a re-check of stored bytes: the CID already covers every byte, and
        # the whole file's SHA-256 would be a second pass of hashing over it).
        self._sha256 = hashlib.sha256() if whole_sha256 else None
        self._pending = bytearray()
        self._leaves: list[Link] = []
        self._root: Link | None = None

    def update(self, data: bytes | memoryview) -> None:
        if self._root is not None:
            raise RuntimeError("update() after cid()")
        view = memoryview(data).cast("B")
        self.size += len(view)
        if self._sha256 is not None:
            self._sha256.update(view)
        if self._pending:  # complete the chunk started by an earlier piece
            take = self.chunk_size - len(self._pending)
            self._pending += view[:take]
            view = view[take:]
            if len(self._pending) < self.chunk_size:
                return
            self._leaf(self._pending)
            self._pending = bytearray()
        while len(view) >= self.chunk_size:  # whole chunks are hashed in place, not copied
            self._leaf(view[: self.chunk_size])
            view = view[self.chunk_size :]
        self._pending += view

    def _leaf(self, chunk: bytes | bytearray | memoryview) -> None:
        if self.raw_leaves:
            cid = cid_raw(hashlib.sha256(chunk).digest())
            self._leaves.append(Link(cid, len(chunk), len(chunk)))
            return
        block = dag_pb_node([], unixfs_leaf_data(chunk))
        cid = self._node_cid(hashlib.sha256(block).digest())
        self._leaves.append(Link(cid, len(block), len(chunk)))

    def cid(self) -> str:
        if self._root is None:
            if self._pending or not self._leaves:  # the tail, or the one empty leaf of b""
                self._leaf(bytes(self._pending))
                self._pending.clear()
            self._root = balanced_root(self._leaves, self.max_links, self._node_cid)
        return cid_text(self._root.cid)

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            raise RuntimeError("this hasher was made with whole_sha256=False")
        return self._sha256.hexdigest()


def unixfs_cid(data: bytes) -> str:
    """The CIDv1 of `data` (all in memory; for streams use UnixfsHasher)."""
    hasher = UnixfsHasher()
    hasher.update(data)
    return hasher.cid()
