"""The CID of a file, as `ipfs add --cid-version=1` computes it, checked against vectors made by
an independent implementation (tests/data/generators/ipfs/generate.mjs, ipfs-unixfs-importer)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from files.cid import InvalidCid, cid_normalize
from files.unixfs import CHUNK_SIZE, UnixfsHasher, unixfs_cid

VECTORS = json.loads((Path(__file__).parents[1] / "data/ipfs/cid_vectors.json").read_text())
SEED = b"stxworx-ipfs-vectors"


@cache
def pattern(size: int) -> bytes:
    """The generator's content: the first `size` bytes of SHAKE256(SEED)."""
    return hashlib.shake_256(SEED).digest(size)


def test_vectors_cover_the_sizes_the_issue_names() -> None:
    sizes = {v["size"] for v in VECTORS["vectors"]}
    assert {0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2**20, 5 * 2**20} <= sizes
    assert max(sizes) > 174 * CHUNK_SIZE  # a tree of two levels


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_cid_matches_the_reference_importer(vector: dict) -> None:
    data = pattern(vector["size"])
    hasher = UnixfsHasher()
    for start in range(0, len(data), 100_000):  # pieces that do not line up with chunks
        hasher.update(data[start : start + 100_000])

    assert hasher.cid() == vector["cid"]
    assert hasher.sha256 == vector["sha256"]
    assert hasher.size == vector["size"]


def test_the_cid_does_not_depend_on_how_the_bytes_are_fed() -> None:
    data = pattern(CHUNK_SIZE * 3 + 7)
    one_go = unixfs_cid(data)
    hasher = UnixfsHasher()
    for byte_run in (data[:1], data[1:CHUNK_SIZE], data[CHUNK_SIZE:]):
        hasher.update(byte_run)
    assert hasher.cid() == one_go


def test_a_changed_byte_changes_the_cid() -> None:
    data = bytearray(pattern(CHUNK_SIZE + 1))
    before = unixfs_cid(bytes(data))
    data[-1] ^= 1
    assert unixfs_cid(bytes(data)) != before


def test_single_chunk_files_are_raw_blocks_and_larger_ones_dag_pb() -> None:
    assert unixfs_cid(pattern(CHUNK_SIZE)).startswith("bafkrei")  # raw, sha2-256
    assert unixfs_cid(pattern(CHUNK_SIZE + 1)).startswith("bafybei")  # dag-pb, sha2-256


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        (
            "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
            "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        ),
        (  # base32 upper case
            "BAFKREIHDWDCEFGH4DQKJV67UZCMW7OJEE6XEDZDETOJUZJEVTENXQUVYKU",
            "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        ),
        (  # CIDv0 of the empty UnixFS directory -> its CIDv1
            "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn",
            "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354",
        ),
    ],
)
def test_cid_normalize_accepts_any_form(text: str, normal: str) -> None:
    assert cid_normalize(text) == normal


@pytest.mark.parametrize(
    "text",
    [
        *["", "hello", "bafy", "Qm123", "z" * 200, "bafkreihdwdcefgh4dqkjv67uzcmw7oj!"],
        # a lone multibase prefix decodes to nothing (the library then raised IndexError)
        *["b", "f", "u", "m", "z", "k", "9", "B", "F", "U", "\x00", "b\x00"],
    ],
)
def test_cid_normalize_refuses_what_is_not_a_cid(text: str) -> None:
    with pytest.raises(InvalidCid):
        cid_normalize(text)


RUST_VECTORS = json.loads(
    (Path(__file__).parents[1] / "data/ipfs/ipfs_cid_vectors.json").read_text()
)


@pytest.mark.parametrize("vector", RUST_VECTORS["vectors"], ids=lambda v: v["name"])
def test_the_tree_and_protobuf_match_a_second_implementation(vector: dict) -> None:
    """Debian's ipfs_cid (Rust) builds only plain `ipfs add`'s layout (dag-pb leaves, CIDv0
    links); the same chunking, balanced tree, dag-pb nodes and UnixFS data in that layout must
    give its CIDs."""
    hasher = UnixfsHasher(raw_leaves=False)
    hasher.update(pattern(vector["size"]))
    assert hasher.cid() == vector["cidv1"]
    assert cid_normalize(vector["cidv0"]) == vector["cidv1"]


@pytest.mark.skipif(shutil.which("ipfs_cid") is None, reason="Debian's ipfs-cid is not installed")
@pytest.mark.parametrize("size", [2, 1000, 3 * CHUNK_SIZE - 1, 7 * CHUNK_SIZE + 12345])
def test_the_tree_matches_ipfs_cid_live(tmp_path: Path, size: int) -> None:
    data = hashlib.shake_256(f"live-{size}".encode()).digest(size)
    path = tmp_path / "data"
    path.write_bytes(data)
    out = subprocess.run(["ipfs_cid", str(path)], capture_output=True, text=True, check=True)
    hasher = UnixfsHasher(raw_leaves=False)
    hasher.update(data)
    assert hasher.cid() == json.loads(out.stdout)["CIDv1"]


@pytest.mark.parametrize("text", ["b", "z", "f"])
def test_a_lone_multibase_prefix_is_called_too_short(text: str) -> None:
    with pytest.raises(InvalidCid, match=r"^Not a CID: too short\.$"):
        cid_normalize(text)
