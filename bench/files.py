"""Benchmark a 25 MB file: its CID, an upload through daphne, and a verified read.

    .venv/bin/python bench/files.py [--write] [--rounds 5] [--megabytes 25]

In-process (no server): the time to compute the CID of `ipfs add --cid-version=1` over the
file (files.unixfs.UnixfsHasher, fed in the upload handler's 256 KiB pieces), against the floor
of a bare SHA-256 over the same bytes (hashlib, C); and the verified read (the CID re-hashed from
disk, then the file read again to stream it), against reading the file from disk.
Through daphne on loopback (the bench settings, a throwaway SQLite file and media directory,
no pinning): POST /api/files with a distinct 25 MB file each round (multipart, signed in), then
GET /api/files/:cid, checking the CID and the bytes; daphne's peak resident memory at the end.
Prints markdown; `--write` puts it in bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ.setdefault("BENCH_SQLITE_PATH", "/tmp/stxworx-bench-files.sqlite3")
for _name in ("DATABASE_URL", "REDIS_URL", "IPFS_PINNING_URL", "IPFS_API_URL"):
    os.environ.pop(_name, None)

from bench import harness  # noqa: E402
from bench.harness import HOST  # noqa: E402

MARKERS = ("<!-- files-results:start -->", "<!-- files-results:end -->")
PIECE = 256 * 1024


def content(size: int, seed: int) -> bytes:
    """`size` bytes that pass as a zip (its signature, then SHAKE256 noise)."""
    return b"PK\x03\x04" + hashlib.shake_256(f"bench-files-{seed}".encode()).digest(size - 4)


def median_seconds(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- in-process --------------------------------------------------------------------------------


def in_process(data: bytes, rounds: int) -> list[tuple[str, float]]:
    from files.unixfs import UnixfsHasher

    def sha256_floor() -> None:
        h = hashlib.sha256()
        for i in range(0, len(data), PIECE):
            h.update(data[i : i + PIECE])
        h.hexdigest()

    def cid() -> None:
        hasher = UnixfsHasher()
        for i in range(0, len(data), PIECE):
            hasher.update(data[i : i + PIECE])
        hasher.cid()

    with tempfile.NamedTemporaryFile() as disk:
        disk.write(data)
        disk.flush()

        def read_floor() -> None:
            with open(disk.name, "rb") as f:
                while f.read(PIECE):
                    pass

        def verified_read() -> None:
            # what GET does for a file over VERIFY_AHEAD_BYTES (files.selectors): re-hash to the
            # CID (no second SHA-256), then read it again to stream it
            cid_hasher = UnixfsHasher(whole_sha256=False)
            with open(disk.name, "rb") as f:
                while chunk := f.read(PIECE):
                    cid_hasher.update(chunk)
                cid_hasher.cid()
                f.seek(0)
                while f.read(PIECE):
                    pass

        return [
            ("SHA-256 alone (floor)", median_seconds(sha256_floor, rounds)),
            ("CID (UnixFS DAG, raw leaves)", median_seconds(cid, rounds)),
            ("read from disk (floor)", median_seconds(read_floor, rounds)),
            (
                "verified read (CID re-hash, then streamed)",
                median_seconds(verified_read, rounds),
            ),
        ]


# --- through daphne ------------------------------------------------------------------------


def prepare(media: Path) -> str:
    os.environ["MEDIA_ROOT"] = str(media)
    harness.database_fresh()
    return harness.token_signed_in()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def through_daphne(size: int, rounds: int, token: str, port: int, pid: int) -> dict[str, object]:
    """First every unsigned POST (the floor), then every upload + read, so daphne's memory
    after the floors shows what receiving the bodies costs on its own."""
    import requests

    from files.unixfs import unixfs_cid

    base = f"http://{HOST}:{port}/api/files"
    headers = {"Authorization": f"Bearer {token}"}
    uploads, downloads, floors, rss = [], [], [], {"start": peak_rss_mb(pid)}

    def post(data: bytes, **kwargs: object) -> tuple[float, requests.Response]:
        start = time.perf_counter()
        response = session.post(
            base,
            files={"file": ("deliverable.zip", data, "application/zip")},
            timeout=120,
            **kwargs,
        )
        return time.perf_counter() - start, response

    with requests.Session() as session:
        for seed in range(rounds):
            seconds, refused = post(content(size, 1000 + seed))
            assert refused.status_code == 401, refused.text[:500]
            floors.append(seconds)
        rss["floors"] = peak_rss_mb(pid)
        for seed in range(rounds):
            data = content(size, seed)
            expected = unixfs_cid(data)
            seconds, response = post(data, headers=headers)
            assert response.status_code == 201, response.text[:500]
            assert response.json()["cid"] == expected, "CID differs from the in-process one"
            uploads.append(seconds)
            start = time.perf_counter()
            got = session.get(f"{base}/{expected}", timeout=120)
            downloads.append(time.perf_counter() - start)
            assert got.status_code == 200 and got.content == data, "read back differs"
        rss["uploads"] = peak_rss_mb(pid)
    return {"uploads": uploads, "downloads": downloads, "floors": floors, "rss": rss}


# --- report ----------------------------------------------------------------------------------


def report(size: int, rounds: int, local: list[tuple[str, float]], http: dict) -> str:
    mb = size / 1e6
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    lines = [
        f"Run {when} UTC: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; a {mb:.0f} MB file (SHAKE256 bytes), "
        f"medians of {rounds} rounds.",
        "",
        "| in-process, one core | ms | MB/s |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {s * 1000:.0f} | {mb / s:.0f} |" for name, s in local]
    up, down = statistics.median(http["uploads"]), statistics.median(http["downloads"])
    floor = statistics.median(http["floors"])
    lines += [
        "",
        "| through one daphne on loopback (client on the same 2 cores) | ms | MB/s |",
        "|---|---:|---:|",
        f"| POST /api/files (multipart, signed in; stored, CID returned) | {up * 1000:.0f} "
        f"| {mb / up:.0f} |",
        f"| floor: the same POST unsigned (body received whole, then 401) | {floor * 1000:.0f} "
        f"| {mb / floor:.0f} |",
        f"| GET /api/files/:cid (verified, streamed) | {down * 1000:.0f} | {mb / down:.0f} |",
        "",
        f"daphne's peak resident memory (VmHWM): {http['rss']['start']:.0f} MB at start, "
        f"{http['rss']['floors']:.0f} MB after the {rounds} unsigned POSTs, "
        f"{http['rss']['uploads']:.0f} MB after the {rounds} uploads and reads.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite bench/README.md results")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--megabytes", type=int, default=25)
    args = parser.parse_args()
    size = args.megabytes * 1000 * 1000
    local = in_process(content(size, 99), args.rounds)
    with tempfile.TemporaryDirectory(prefix="bench-files-") as tmp:
        token = prepare(Path(tmp) / "media")
        port = harness.free_port()
        proc = harness.daphne_start(port, Path(tmp) / "daphne.log")
        try:
            http = through_daphne(size, args.rounds, token, port, proc.pid)
        finally:
            harness.daphne_stop(proc)
    text = report(size, args.rounds, local, http)
    print(text)
    if args.write:
        harness.readme_write(text, MARKERS)


if __name__ == "__main__":
    main()
