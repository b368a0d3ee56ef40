"""The u128 model field: every digit kept, numeric order in SQL, bad values refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from chainsync.fields import U128_MAX, U128Field
from chainsync.models import ChainProject

pytestmark = pytest.mark.django_db

AMOUNTS = [0, 1, 9, 10, 2**53 + 1, 2**63 + 1, 10**38 + 7, U128_MAX]


def project(on_chain_id: int, amount: int) -> ChainProject:
    return ChainProject.objects.create(
        on_chain_id=on_chain_id,
        client="SP1",
        freelancer="SP2",
        token="STX",
        gross_amount=amount,
        total_amount=amount,
        fee_paid=0,
        num_milestones=1,
        created_tx="0x01",
        created_block_height=1,
        created_burn_height=1,
    )


def test_every_digit_survives_a_round_trip():
    for on_chain_id, amount in enumerate(AMOUNTS, start=1):
        project(on_chain_id, amount)
    stored = dict(ChainProject.objects.values_list("on_chain_id", "total_amount"))
    assert stored == dict(enumerate(AMOUNTS, start=1))
    assert all(type(value) is int for value in stored.values())


def test_sql_orders_and_compares_numerically():
    # given amounts whose text would sort otherwise ("9" > "10", "18446744073709551617" < "9")
    for on_chain_id, amount in enumerate(reversed(AMOUNTS), start=1):
        project(on_chain_id, amount)
    # then
    ordered = ChainProject.objects.order_by("total_amount").values_list("total_amount", flat=True)
    assert list(ordered) == AMOUNTS
    bigger = ChainProject.objects.filter(total_amount__gt=9).values_list("total_amount", flat=True)
    assert sorted(bigger) == [a for a in AMOUNTS if a > 9]
    assert ChainProject.objects.get(total_amount=2**63 + 1).gross_amount == 2**63 + 1
    assert ChainProject.objects.filter(total_amount__in=[1, U128_MAX]).count() == 2


def test_decimals_and_digit_strings_are_taken_as_integers():
    project(1, Decimal(12345678901234567890123456789))
    project(2, "340282366920938463463374607431768211455")
    assert ChainProject.objects.get(on_chain_id=1).total_amount == 12345678901234567890123456789
    assert ChainProject.objects.get(on_chain_id=2).total_amount == U128_MAX


@pytest.mark.parametrize("bad", [-1, U128_MAX + 1, 1.5, True, Decimal("1.5"), "12a", "", [1]])
def test_values_outside_u128_are_refused(bad):
    with pytest.raises(ValidationError):
        U128Field().to_python(bad)


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_the_amounts_already_stored():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    # given a projection written by the decimal columns of 0003
    before = [("chainsync", "0003_chain_event_chain_order")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("chainsync", "ChainProject")
    fields = dict(client="SP1", freelancer="SP2", token="STX", fee_paid=3, num_milestones=1)
    fields.update(created_tx="0x01", created_block_height=1, created_burn_height=1)
    for on_chain_id, amount in enumerate([9, 10, 27_000_000, 2**62], start=1):
        old.objects.create(
            on_chain_id=on_chain_id, gross_amount=amount, total_amount=amount, **fields
        )
    # when migrated forward again (to the newest state, as the rest of the suite expects)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    # then every amount reads back, and compares as a number
    stored = ChainProject.objects.order_by("total_amount").values_list("total_amount", flat=True)
    assert list(stored) == [9, 10, 27_000_000, 2**62]
    assert ChainProject.objects.filter(fee_paid=3, refunded_amount=0).count() == 4
