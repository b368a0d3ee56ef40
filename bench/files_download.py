"""Benchmark what one anonymous read of a 25 MB file costs the server: GET (verified, streamed
to the end) and HEAD, in-process through Django's test client (WSGI; no network, so the time is
the server's own work: opening, hashing, reading, the response).

    .venv/bin/python bench/files_download.py [--rounds 9] [--megabytes 25]

A throwaway SQLite file and media directory (bench.settings), no pinning; the file is uploaded
once through POST /api/files, then read `rounds` times each way. Prints the median wall and CPU
milliseconds per request and the bytes read from storage per request.

Results, 2026-11-29 (2 shared CPUs, Python 3.11.7; medians of 15, two alternating runs each;
"before" is 9d71687 run with this same script, from a git worktree):

| request (25 MB file) | before: wall / CPU ms, MB read | after: wall / CPU ms, MB read |
|---|---:|---:|
| GET /api/files/:cid | 86 / 85, 50 | 42 / 42, 50 |
| HEAD /api/files/:cid | 53 / 52, 25 | 2-3 / 2, 0 |

Before: a full CID pass (a SHA-256 per leaf plus one of the whole file), then a second read
with a second SHA-256 while streaming; HEAD ran the same CID pass. After: one hashing pass (the
CID alone), then the bytes streamed with a check of the open file's identity before the last
chunk; HEAD stats the file. Past 1 MiB a file is still read twice (reading is cheap next to
hashing, and a second read lets damaged bytes be refused with a 409 before anything is sent).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ.setdefault("BENCH_SQLITE_PATH", "/tmp/stxworx-bench-files-download.sqlite3")
for _name in ("DATABASE_URL", "REDIS_URL", "IPFS_PINNING_URL", "IPFS_API_URL"):
    os.environ.pop(_name, None)

from bench.harness import database_fresh, token_signed_in  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--megabytes", type=int, default=25)
    args = parser.parse_args()
    size = args.megabytes * 1000 * 1000
    data = b"PK\x03\x04" + hashlib.shake_256(b"bench-files-download").digest(size - 4)
    with tempfile.TemporaryDirectory(prefix="bench-files-download-") as tmp:
        os.environ["MEDIA_ROOT"] = str(Path(tmp) / "media")
        database_fresh()
        from django.conf import settings
        from django.core.cache import cache
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.test import Client

        settings.FILES = {
            **settings.FILES,
            "DOWNLOAD_RATE_ANON": None,
            "DOWNLOAD_RATE_USER": None,
        }
        token = token_signed_in()
        client = Client(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
        upload = SimpleUploadedFile("d.zip", data, content_type="application/zip")
        response = client.post("/api/files", {"file": upload})
        assert response.status_code == 201, response.content[:500]
        cid = response.json()["cid"]
        anon = Client(SERVER_NAME="127.0.0.1")

        read = [0]
        import builtins

        plain_open = builtins.open
        stored_path = str(Path(tmp) / "media")

        class Counted:
            def __init__(self, raw) -> None:
                self.raw = raw

            def __getattr__(self, name):
                return getattr(self.raw, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc) -> None:
                self.raw.close()

            def __iter__(self):
                return iter(self.raw)

            def read(self, *a):
                chunk = self.raw.read(*a)
                read[0] += len(chunk)
                return chunk

        def counting_open(file, *a, **kw):
            handle = plain_open(file, *a, **kw)
            return Counted(handle) if str(file).startswith(stored_path) else handle

        def timed(method: str) -> tuple[float, float, int]:
            cache.clear()
            read[0] = 0
            wall, cpu = time.perf_counter(), time.process_time()
            response = getattr(anon, method)(f"/api/files/{cid}")
            got = b"".join(response.streaming_content) if response.streaming else response.content
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert response.status_code == 200, response.status_code
            assert got == (data if method == "get" else b"")
            return wall, cpu, read[0]

        builtins.open = counting_open
        try:
            rows = {m: [timed(m) for _ in range(args.rounds)] for m in ("get", "head")}
        finally:
            builtins.open = plain_open
    print(f"{args.megabytes} MB file, medians of {args.rounds}:")
    print("| request | wall ms | CPU ms | MB read from storage |")
    print("|---|---:|---:|---:|")
    for method, samples in rows.items():
        wall = statistics.median(s[0] for s in samples) * 1000
        cpu = statistics.median(s[1] for s in samples) * 1000
        mb = statistics.median(s[2] for s in samples) / 1e6
        print(f"| {method.upper()} /api/files/:cid | {wall:.0f} | {cpu:.0f} | {mb:.0f} |")


if __name__ == "__main__":
    main()
