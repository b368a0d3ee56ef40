"""A SQLite database named by DATABASE_URL gets the same lock settings as the SQLITE_PATH default
(WAL, BEGIN IMMEDIATE, a busy timeout): without them concurrent writers fail with "database is
locked"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    mode = cursor.fetchone()[0]
    cursor.execute("PRAGMA busy_timeout")
    busy = cursor.fetchone()[0]
print(json.dumps({"mode": mode, "busy": busy,
                  "tx": connection.settings_dict["OPTIONS"].get("transaction_mode")}))
"""


def _probe(**env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    environ.update(DJANGO_SETTINGS_MODULE="stxworx.settings", **env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=60,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("how", ["url", "path"])
def test_sqlite_gets_wal_immediate_and_a_timeout_however_it_is_named(tmp_path, how):
    db = tmp_path / "db.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{db}"} if how == "url" else {"SQLITE_PATH": str(db)}

    seen = _probe(**env)

    assert seen == {"mode": "wal", "busy": 20000, "tx": "IMMEDIATE"}
