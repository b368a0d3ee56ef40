"""System checks of the kernel: what the project needs of its environment beyond Django's own
minimums."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register
from django.db import connections

SQLITE_MIN = (3, 35, 0)  # INSERT ... RETURNING (the indexer's and notifications' bulk inserts)


@register()
def sqlite_version_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Django 5.2 accepts SQLite 3.31; the bulk inserts read their new ids back with RETURNING,
    which SQLite has from 3.35. Refuse an older library up front instead of failing the first
    indexer batch."""
    errors: list[CheckMessage] = []
    for alias in connections:
        connection = connections[alias]
        if connection.vendor != "sqlite":
            continue
        version = connection.Database.sqlite_version_info
        if tuple(version) < SQLITE_MIN:
            errors.append(
                Error(
                    f"SQLite {'.'.join(map(str, version))} is too old for database '{alias}': "
                    f"this project needs {'.'.join(map(str, SQLITE_MIN))} or newer "
                    "(INSERT ... RETURNING).",
                    hint="Use a Python built against a newer SQLite, or set DATABASE_URL to "
                    "PostgreSQL.",
                    id="stxworx.E001",
                )
            )
    return errors
