"""Writes tests/data/ipfs/ipfs_cid_vectors.json with Debian's `ipfs_cid` (package ipfs-cid, a
Rust build of rust-ipfs's UnixFS file adder): a second, independent implementation of the tree
and protobuf encoding files/unixfs.py writes.

The tool computes plain `ipfs add` (CIDv0: 256 KiB chunks, dag-pb leaves, balanced 174, nodes
linked by CIDv0) and prints the root's CIDv1 twin too. Our uploads use the --cid-version=1 layout
(raw leaves) instead, checked by generate.mjs's vectors; the two layouts share the chunking, the
balanced tree, the dag-pb node and the UnixFS file data, which these vectors check.

    apt-get install ipfs-cid
    python3 tests/data/generators/ipfs/debian_ipfs_cid.py

Same content as generate.mjs: the first <size> bytes of SHAKE256("stxworx-ipfs-vectors").
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from pathlib import Path

SEED = b"stxworx-ipfs-vectors"
CHUNK = 256 * 1024
MIB = 1024 * 1024
SIZES = [
    ("empty", 0),
    ("one byte", 1),
    ("one chunk", CHUNK),
    ("one chunk and one byte", CHUNK + 1),
    ("1 MiB", MIB),
    ("5 MiB", 5 * MIB),
    ("174 chunks (one full node)", 174 * CHUNK),
    ("174 chunks and one byte (two levels)", 174 * CHUNK + 1),
    ("45 MiB (two levels, 180 chunks)", 45 * MIB),
]
OUT = Path(__file__).resolve().parents[2] / "ipfs" / "ipfs_cid_vectors.json"


def main() -> None:
    stream = hashlib.shake_256(SEED).digest(max(size for _, size in SIZES))
    version = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "ipfs-cid"], capture_output=True, text=True
    ).stdout
    vectors = []
    for name, size in SIZES:
        with tempfile.NamedTemporaryFile() as f:
            f.write(stream[:size])
            f.flush()
            out = subprocess.run(["ipfs_cid", f.name], capture_output=True, text=True, check=True)
        cids = json.loads(out.stdout)
        vectors.append({"name": name, "size": size, "cidv0": cids["CIDv0"], "cidv1": cids["CIDv1"]})
        print(name, size, cids["CIDv0"])
    doc = {
        "generator": f"tests/data/generators/ipfs/debian_ipfs_cid.py (Debian ipfs-cid {version})",
        "content": 'first <size> bytes of SHAKE256("stxworx-ipfs-vectors")',
        "layout": "plain ipfs add: CIDv0, dag-pb leaves, fixed 262144, balanced 174",
        "vectors": vectors,
    }
    OUT.write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
