"""stxworx.sql, the set-based SQL of the batch paths: u128 amounts and keys prepared as their
field prepares them, the pks it hands new rows are theirs, upserts, conflicts raising Django's
errors inside the caller's transaction, one statement per PAGE_ROWS rows, UPDATE by pks touching
those rows only, and the GC pause."""

from __future__ import annotations

import datetime as dt
import gc
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chainsync.fields import U128_MAX
from chainsync.models import ChainEvent, ChainMilestone, ChainProject, ChainTransaction
from stxworx.sql import (
    CHUNK,
    PAGE_ROWS,
    gc_paused,
    instances_insert,
    pks_update,
    preparer,
    rows_insert,
    values_in,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC
VALUES = [0, 1, 9, 2**53 + 1, 2**64, 10**38 + 7, U128_MAX, U128_MAX + 1, -1]
VALUES += [None, True, 1.5, Decimal(12), Decimal("1.5"), "42", "x"]


def outcome(prepare: Any, value: Any) -> tuple[str, Any]:
    try:
        return ("value", prepare(value))
    except Exception as exc:
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_a_u128_amount_is_prepared_as_the_field_prepares_it(value: Any) -> None:
    field = ChainProject._meta.get_field("gross_amount")
    fast = preparer(field)
    assert fast is not None
    assert outcome(fast, value) == outcome(lambda v: field.get_db_prep_save(v, connection), value)


@pytest.mark.parametrize("value", [None, 0, 7, 2**40, "7", True, Decimal(3)], ids=repr)
def test_a_key_is_prepared_as_the_field_prepares_it(value: Any) -> None:
    field = ChainMilestone._meta.get_field("project")
    fast = preparer(field)
    assert fast is not None
    assert outcome(fast, value) == outcome(lambda v: field.get_db_prep_save(v, connection), value)


def test_plain_columns_go_as_they_are() -> None:
    assert preparer(ChainProject._meta.get_field("client")) is None
    assert preparer(ChainProject._meta.get_field("on_chain_id")) is None


def new_project(on_chain_id: int) -> ChainProject:
    return ChainProject(
        on_chain_id=on_chain_id,
        client=f"SP{on_chain_id}",
        freelancer="SP2",
        token="STX",
        gross_amount=U128_MAX - on_chain_id,
        total_amount=on_chain_id,
        fee_paid=0,
        num_milestones=1,
        created_tx=f"0x{on_chain_id:064x}",
        created_block_height=on_chain_id,
        created_burn_height=on_chain_id,
    )


def test_inserted_instances_get_the_pks_of_their_rows() -> None:
    # given: rows already there, so that pks do not start at 1; more new ones than one INSERT
    instances_insert(ChainProject, [new_project(i) for i in range(1, 4)])
    rows = [new_project(i) for i in range(2 * PAGE_ROWS + 7, 3, -1)]  # not in on_chain_id order
    # when
    instances_insert(ChainProject, rows)
    # then: each instance is its stored row, as save() would leave it
    stored = dict(ChainProject.objects.values_list("pk", "on_chain_id"))
    assert {row.pk: row.on_chain_id for row in rows}.items() <= stored.items()
    assert len({row.pk for row in rows}) == len(rows)
    assert not any(row._state.adding for row in rows)
    again = ChainProject.objects.get(pk=rows[0].pk)
    assert (again.gross_amount, again.client) == (rows[0].gross_amount, rows[0].client)


def test_pks_update_writes_those_rows_only() -> None:
    # given: more events than one IN (...) takes
    ChainEvent.objects.bulk_create(
        ChainEvent(
            tx_id=f"0x{i:064x}", event_index=0, block_height=i, burn_block_height=i, tx_index=0
        )
        for i in range(CHUNK + 9)
    )
    pks = sorted(ChainEvent.objects.values_list("pk", flat=True))
    chosen, others = pks[1:], pks[:1]
    # when
    at = timezone.now()
    pks_update(ChainEvent, chosen, state="failed", error="E: why", applied_at=at)
    # then
    columns = ("state", "error", "applied_at")
    assert set(ChainEvent.objects.filter(pk__in=chosen).values_list(*columns)) == {
        ("failed", "E: why", at)
    }
    assert list(ChainEvent.objects.filter(pk__in=others).values_list(*columns)) == [
        ("pending", "", None)
    ]


def test_gc_paused_pauses_the_collector_and_restores_it_as_it_was() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    # on an error too
    with pytest.raises(KeyError), gc_paused():
        raise KeyError("x")
    assert gc.isenabled()
    # and a collector paused by someone else stays paused
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


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


def test_rows_insert_returns_the_pks_in_row_order_one_statement_per_page() -> None:
    rows = tx_rows(PAGE_ROWS * 2 + 3)
    with CaptureQueriesContext(connection) as watched:
        pks = rows_insert(ChainTransaction, NAMES, rows, update=None, returning=True)
    assert len(watched) == 3
    assert [r.pk for r in ChainTransaction.objects.order_by("tx_id")] == pks
    first = ChainTransaction.objects.get(pk=pks[0])
    assert (first.tx_id, first.function_args, first.block_time) == (rows[0][0], rows[0][2], None)
    assert ChainTransaction.objects.get(pk=pks[1]).block_time == rows[1][3]


def test_values_in_reads_the_columns_of_those_rows() -> None:
    rows_insert(ChainTransaction, NAMES, tx_rows(5), update=None)
    wanted = {f"0x{i:064x}" for i in (1, 3, 9)}
    got = values_in(ChainTransaction, ["tx_id", "block_height"], "tx_id", wanted)
    assert sorted(got) == [(f"0x{1:064x}", 101), (f"0x{3:064x}", 103)]
    assert values_in(ChainTransaction, ["tx_id"], "tx_id", set()) == []


def test_an_upsert_updates_the_named_fields_and_do_nothing_keeps_the_row() -> None:
    rows_insert(ChainTransaction, NAMES, tx_rows(5), update=None)
    changed = [(r[0], "changed", *r[2:]) for r in tx_rows(5)]
    rows_insert(ChainTransaction, NAMES, changed, conflict=["tx_id"], update=["function_name"])
    assert set(ChainTransaction.objects.values_list("function_name", flat=True)) == {"changed"}
    rows_insert(ChainTransaction, NAMES, tx_rows(5), update=[])
    assert set(ChainTransaction.objects.values_list("function_name", flat=True)) == {"changed"}


def test_a_conflict_raises_djangos_integrity_error_and_keeps_the_transaction() -> None:
    """Django's IntegrityError, caught inside atomic, the outer transaction usable."""
    rows_insert(ChainTransaction, NAMES, tx_rows(2), update=None)
    with transaction.atomic():
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
