from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.db import connection

from stxworx.checks import SQLITE_MIN, sqlite_version_check

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="an SQLite check")


def test_the_running_sqlite_passes_the_check() -> None:
    assert tuple(connection.Database.sqlite_version_info) >= SQLITE_MIN
    assert sqlite_version_check() == []
    assert not [m for m in run_checks() if m.id == "stxworx.E001"]


@pytest.mark.parametrize("version", [(3, 34, 1), (3, 31, 1)])
def test_an_sqlite_without_returning_is_refused_by_the_checks(
    monkeypatch: pytest.MonkeyPatch, version: tuple[int, int, int]
) -> None:
    monkeypatch.setattr(connection.Database, "sqlite_version_info", version)
    errors = [m for m in run_checks() if m.id == "stxworx.E001"]
    assert len(errors) == 1
    assert f"SQLite {'.'.join(map(str, version))} is too old" in errors[0].msg
    assert "3.35.0" in errors[0].msg
