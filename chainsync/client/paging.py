"""Walking the API's cursor pages (newest first, each page's cursor pointing at older rows)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
Fetch = Callable[[str | None], tuple[tuple[T, ...], str | None]]  # cursor -> rows, older cursor


def walk_cursor(
    fetch: Fetch[T],
    known: Callable[[T], bool] | None,
    key: Callable[[T], Any],
) -> list[T]:
    """Follow older-cursors from the head until `known` matches or the pages end.

    A cursor is a chain position, not a rank, so rows added at the head never shift older pages.
    """
    collected: dict[Any, T] = {}
    for rows in cursor_pages(fetch):
        for row in rows:
            if known is not None and known(row):
                return list(reversed(collected.values()))
            collected.setdefault(key(row), row)
    return list(reversed(collected.values()))


def cursor_pages(
    fetch: Fetch[T], first: tuple[tuple[T, ...], str | None] | None = None
) -> Iterator[tuple[T, ...]]:
    """The pages `fetch` returns, from the head (cursor None) along the older-cursors, one
    request each, until an empty page or one without an older cursor. `first`: the head page
    (rows, older cursor), already read."""
    cursor: str | None = None
    while True:
        rows, cursor = first if first is not None else fetch(cursor)
        first = None
        if not rows:
            return
        yield rows
        if cursor is None:
            return
