"""chainsync.bulk's SQLite shortcuts give what the careful path gives: datetimes and JSON
documents prepared as their field prepares them, and statements run on the sqlite3 cursor
(when nobody watches the queries) storing the same rows and raising the same errors as
through Django's cursor."""

from __future__ import annotations

import datetime as dt
import warnings
import zoneinfo
from contextlib import nullcontext
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from chainsync import bulk
from chainsync.bulk import preparer, rows_insert
from chainsync.models import ChainEvent, ChainTransaction

pytestmark = pytest.mark.django_db

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite shortcuts")

UTC = dt.UTC
MOMENTS: list[Any] = [
    dt.datetime(2026, 11, 29, 15, 4, 5, tzinfo=UTC),
    dt.datetime(2026, 11, 29, 15, 4, 5, 1, tzinfo=UTC),
    dt.datetime(2026, 11, 29, 15, 4, 5, 123456, tzinfo=UTC),
    dt.datetime(1970, 1, 1, tzinfo=UTC),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    dt.datetime.fromtimestamp(1_700_000_000, tz=UTC),
    dt.datetime.fromtimestamp(1_700_000_000.5, tz=UTC),
    # not datetime.timezone.utc: the careful path
    dt.datetime(2026, 11, 29, 15, 4, 5, 7, tzinfo=zoneinfo.ZoneInfo("UTC")),
    dt.datetime(2026, 11, 29, 15, 4, 5, tzinfo=zoneinfo.ZoneInfo("America/New_York")),
    dt.datetime(2026, 11, 29, 1, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=9))),
    dt.datetime(2026, 11, 29, 1, 4, 5, tzinfo=dt.timezone(dt.timedelta(0))),
    dt.date(2026, 11, 29),
    "2026-11-29T15:04:05Z",
    "not a date",
    None,
    17,
]
DOCUMENTS: list[Any] = [
    {},
    [],
    {"a": 1, "b": [1, 2, {"c": None}], "d": True, "e": 1.5},
    {"name": "Zoë ✓ 東京", "emoji": "🙂", "ctl": '\n\t\x00"\\'},
    [{"type": "uint", "repr": "u1"}, {"type": "principal", "repr": "'SP2"}],
    {"deep": {"deeper": {"deepest": ["x", {"y": [[], {}]}]}}},
    {1: "int key", "k": (1, 2)},
    {"nan": float("nan"), "big": 10**40},
    {"bad": object()},
    {"bad": {1, 2}},
    ("tuple", 1),
    "a string",
    7,
    None,
    True,
]


def outcome(prepare: Any, value: Any) -> tuple[str, Any]:
    try:
        prepared = prepare(value)
        if type(prepared).__name__ == "Jsonb":  # PostgreSQL: what the driver would send
            return ("Jsonb", prepared.dumps(prepared.obj))
    except Exception as exc:
        return (type(exc).__name__, str(exc))
    return ("value", prepared)


def careful(field: Any) -> Any:
    return lambda value: field.get_db_prep_save(value, connection)


@pytest.mark.parametrize("value", MOMENTS, ids=repr)
def test_a_datetime_is_prepared_as_the_field_prepares_it(value: Any) -> None:
    field = ChainTransaction._meta.get_field("block_time")
    fast = preparer(field)
    assert fast is not None
    with warnings.catch_warnings():  # a date: "naive datetime" either way
        warnings.simplefilter("ignore", RuntimeWarning)
        assert outcome(fast, value) == outcome(careful(field), value)


@pytest.mark.parametrize("value", DOCUMENTS, ids=repr)
def test_a_json_document_is_prepared_as_the_field_prepares_it(value: Any) -> None:
    for field in (
        ChainTransaction._meta.get_field("function_args"),
        ChainEvent._meta.get_field("payload"),
    ):
        fast = preparer(field)
        assert fast is not None
        assert outcome(fast, value) == outcome(careful(field), value)


@sqlite_only
def test_the_shortcuts_are_taken_for_the_common_values_only(monkeypatch: Any) -> None:
    """The common values do not reach get_db_prep_save; the others do."""
    calls: list[Any] = []
    field = ChainTransaction._meta.get_field("block_time")
    document = ChainEvent._meta.get_field("payload")
    for f in (field, document):
        original = f.get_db_prep_save
        monkeypatch.setattr(
            f, "get_db_prep_save", lambda v, c, original=original: calls.append(v) or original(v, c)
        )
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert preparer(field)(moment) == "2026-01-02 03:04:05.000006"
    assert preparer(document)({"é": [1]}) == '{"\\u00e9": [1]}'
    assert calls == []
    other = moment.astimezone(zoneinfo.ZoneInfo("Europe/Paris"))
    assert preparer(field)(other) == "2026-01-02 03:04:05.000006"
    assert preparer(document)(("t",)) == '["t"]'
    assert calls == [other, ("t",)]


def tx_rows(n: int, offset: int = 0) -> list[tuple[Any, ...]]:
    return [
        (
            f"0x{i + offset:064x}",
            f"f{i}",
            [{"i": i, "s": "ü"}],
            dt.datetime.fromtimestamp(1_700_000_000 + i, tz=UTC) if i % 3 else None,
            100 + i,
            7,
            i,
        )
        for i in range(n)
    ]


NAMES = [
    "tx_id",
    "function_name",
    "function_args",
    "block_time",
    "block_height",
    "burn_block_height",
    "tx_index",
]


def stored() -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tx_id, function_name, function_args, block_time, status, seen_at IS NULL"
            " FROM chainsync_chaintransaction ORDER BY tx_id"
        )
        return cursor.fetchall()


@sqlite_only
def test_statements_on_the_sqlite3_cursor_store_what_djangos_cursor_stores(
    monkeypatch: Any,
) -> None:
    """The same rows inserted, watched (Django's cursor) then not (sqlite3's), read back raw."""
    rows = tx_rows(bulk.PAGE_ROWS * 2 + 3)
    with CaptureQueriesContext(connection) as watched:
        pks = rows_insert(ChainTransaction, NAMES, rows, update=None, returning=True)
    assert len(watched) == 3
    careful_rows = stored()
    ChainTransaction.objects.all().delete()
    with CaptureQueriesContext(connection):
        pass
    assert not connection.queries_logged
    monkeypatch.setattr(connection, "cursor", None)  # Django's cursor not used
    fast_pks = rows_insert(ChainTransaction, NAMES, rows, update=None, returning=True)
    monkeypatch.undo()
    assert len(fast_pks) == len(pks) and fast_pks == sorted(fast_pks)
    assert [r.pk for r in ChainTransaction.objects.order_by("tx_id")] == fast_pks
    assert stored() == careful_rows


@sqlite_only
def test_the_sqlite3_cursor_is_not_used_while_statements_are_watched() -> None:
    seen: list[str] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        rows_insert(ChainTransaction, NAMES, tx_rows(3), update=None)
    assert len(seen) == 1 and "%s" in seen[0] and "?" not in seen[0]
    assert ChainTransaction.objects.count() == 3


@sqlite_only
def test_an_upsert_on_the_sqlite3_cursor_updates_as_through_djangos_cursor() -> None:
    rows_insert(ChainTransaction, NAMES, tx_rows(5), update=None)
    changed = [(r[0], "changed", *r[2:]) for r in tx_rows(5)]
    rows_insert(ChainTransaction, NAMES, changed, conflict=["tx_id"], update=["function_name"])
    assert set(ChainTransaction.objects.values_list("function_name", flat=True)) == {"changed"}
    rows_insert(ChainTransaction, NAMES, tx_rows(5), update=[])
    assert set(ChainTransaction.objects.values_list("function_name", flat=True)) == {"changed"}


@pytest.mark.parametrize("watched", [False, True])
def test_a_conflict_raises_djangos_integrity_error_and_keeps_the_transaction(
    watched: bool,
) -> None:
    """Either way: Django's IntegrityError, caught inside atomic, the outer transaction usable."""
    rows_insert(ChainTransaction, NAMES, tx_rows(2), update=None)
    context = CaptureQueriesContext(connection) if watched else nullcontext()
    with transaction.atomic(), context:
        with pytest.raises(IntegrityError), transaction.atomic():
            rows_insert(ChainTransaction, NAMES, tx_rows(3), update=None)
        rows_insert(ChainTransaction, NAMES, tx_rows(2, offset=10), update=None)
    assert ChainTransaction.objects.count() == 4


def test_a_failed_atomic_block_is_refused_as_through_djangos_cursor() -> None:
    """After an error inside atomic (no savepoint), any statement is refused, as Django does."""
    from django.db.transaction import TransactionManagementError

    rows_insert(ChainTransaction, NAMES, tx_rows(1), update=None)
    with transaction.atomic():
        with pytest.raises(IntegrityError), transaction.atomic(savepoint=False):
            rows_insert(ChainTransaction, NAMES, tx_rows(1), update=None)
        with pytest.raises(TransactionManagementError):
            rows_insert(ChainTransaction, NAMES, tx_rows(1, offset=5), update=None)
