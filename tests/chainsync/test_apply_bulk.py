"""The bulk SQL the apply writes with (chainsync.bulk): its shortcut for u128 amounts gives what
the field itself gives, the pks it hands new rows are theirs, and its UPDATE by pks touches
those rows only."""

from __future__ import annotations

import gc
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import signals
from django.utils import timezone

from chainsync.bulk import (
    CHUNK,
    PAGE_ROWS,
    gc_paused,
    instances_insert,
    instances_read,
    model_new,
    pks_update,
    preparer,
)
from chainsync.fields import U128_MAX
from chainsync.models import ChainEvent, ChainMilestone, ChainProject

pytestmark = pytest.mark.django_db

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
    return model_new(
        ChainProject,
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


def fields_of(instance: Any) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_instances_read_are_the_rows_the_orm_reads() -> None:
    # given
    instances_insert(ChainProject, [new_project(i) for i in range(1, 6)])
    query = ChainProject.objects.filter(on_chain_id__in=[2, 3, 5]).order_by("on_chain_id")
    # when
    read = instances_read(query)
    # then: the same values, stored instances that save as an UPDATE
    assert [fields_of(p) for p in read] == [fields_of(p) for p in query]
    assert all(not p._state.adding and p._state.db == "default" for p in read)
    read[0].refunded = True
    read[0].save()
    assert ChainProject.objects.count() == 5
    assert ChainProject.objects.get(on_chain_id=2).refunded


def test_model_new_builds_what_the_model_builds() -> None:
    values = {"on_chain_id": 9, "client": "SP9", "gross_amount": 7, "project_id": None}
    built, careful = model_new(ChainProject, **values), ChainProject(**values)
    assert fields_of(built) == fields_of(careful)
    assert built._state.adding and built._state.db is None
    assert model_new(ChainMilestone, slot=1).project_id is None


def test_a_model_with_init_receivers_is_built_by_its_init() -> None:
    # given: a post_init receiver on ChainProject
    seen: list[int | None] = []

    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(instance.on_chain_id)

    instances_insert(ChainProject, [new_project(1)])
    signals.post_init.connect(receiver, sender=ChainProject)
    try:
        # when
        model_new(ChainProject, on_chain_id=2)
        instances_read(ChainProject.objects.all())
    finally:
        signals.post_init.disconnect(receiver, sender=ChainProject)
    # then: it heard both, as it would from the ORM
    assert seen == [2, 1]


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
