"""Benchmark the chain indexer: back-fill a synthetic escrow history of N print events from the
loopback fake Hiro API into an empty SQLite file.

    .venv/bin/python bench/indexer.py [--sizes 20000,100000] [--profile-size 5000] [--write]

Per history size, three processes: the fake API (tests/chainsync/hiro_server.py) serving a
deterministic history, built in a process of its own so the chain it holds stays out of the
indexer's memory; a set-up process that migrates a throwaway SQLite file and writes the off-chain
projects waiting for their escrow; and the indexer, which runs `sync_once` (no rate limit) from
the empty database to the tip, polls once more (nothing new), and checks the result against the
history. Measured: events/s excluding the time spent waiting inside HTTP requests, API requests
per route against the floor, peak RSS. Then a cProfile run of the phases on a fresh database.
Prints markdown; `--write` puts it in bench/README.md.

The code is in bench/indexing/: the history (history.py), the child processes (roles.py), the
profile summaries (profiles.py) and the report (report.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # run as a script: the repo root, not bench/, goes first on the path

from bench.indexing.report import readme_write, report  # noqa: E402
from bench.indexing.roles import role_index, role_serve, role_setup  # noqa: E402


def _env(db: Path) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "stxworx.settings", "SQLITE_PATH": str(db)}
    env |= {"DJANGO_DEBUG": "false", "PYTHONUNBUFFERED": "1"}  # no query log, as in production
    for name in ("DATABASE_URL", "REDIS_URL"):  # the bench runs the embedded default
        env.pop(name, None)
    return env


def _child(role: str, env: dict[str, str], timeout: float, *extra: str) -> None:
    argv = [sys.executable, str(Path(__file__)), "--role", role, *extra]
    try:
        done = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        sys.exit(f"{role} took more than {timeout:.0f} s (--timeout); stopped")
    if done.returncode:
        sys.exit(f"{role} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")


def run_history(
    events_n: int, profiles: list[bool], args: argparse.Namespace, tmp: Path
) -> dict[str, Any]:
    """Serve one history and index it once per entry of `profiles` (True: under cProfile),
    each time from a fresh database."""
    plan_path = tmp / f"plan-{events_n}.json"
    argv = [sys.executable, str(Path(__file__)), "--role", "serve", "--events", str(events_n)]
    argv += ["--seed", str(args.seed), "--plan", str(plan_path)]
    server = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    runs = []
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == b"ready"
        plan = json.loads(plan_path.read_text())
        for i, profile in enumerate(profiles):
            db, out = tmp / f"db-{events_n}-{i}.sqlite3", tmp / f"out-{events_n}-{i}.json"
            _child("setup", _env(db), args.timeout, "--plan", str(plan_path))
            extra = ["--plan", str(plan_path), "--out", str(out)] + ["--profile"] * profile
            _child("index", _env(db), args.timeout, *extra)
            runs.append(json.loads(out.read_text()))
            print(f"{events_n:,} events{' (profiled)' * profile}: indexed", file=sys.stderr)
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=60)
    served = json.loads((tmp / f"plan-{events_n}.json.served").read_text())
    measured = [run for run, profile in zip(runs, profiles, strict=True) if not profile]
    return {
        "plan": plan,
        "run": measured[0] if measured else None,
        "runs": runs,
        "profile": [run for run, profile in zip(runs, profiles, strict=True) if profile],
        "served": served,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,100000", help="history lengths, in events")
    parser.add_argument("--profile-size", type=int, default=5000, help="0: no profiled run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1800, help="per process, seconds")
    parser.add_argument("--write", action="store_true", help="rewrite bench/README.md results")
    parser.add_argument("--role", choices=["serve", "setup", "index"], help=argparse.SUPPRESS)
    parser.add_argument("--events", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        {"serve": role_serve, "setup": role_setup, "index": role_index}[args.role](args)
        return
    start = time.perf_counter()
    plans = {int(size): [False] for size in args.sizes.split(",")}
    if args.profile_size:
        plans.setdefault(args.profile_size, []).append(True)
    with tempfile.TemporaryDirectory(prefix="stxworx-bench-indexer-") as tmp_name:
        tmp = Path(os.environ.get("BENCH_KEEP_DIR") or tmp_name)  # keep the files to look at
        tmp.mkdir(parents=True, exist_ok=True)
        results = [run_history(n, profiles, args, tmp) for n, profiles in plans.items()]
    text = report(results, time.perf_counter() - start, args)
    print(text)
    if args.write:
        readme_write(text)


if __name__ == "__main__":
    main()
