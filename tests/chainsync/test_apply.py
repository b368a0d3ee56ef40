"""Applying events in set-based batches, against the loopback Hiro API: a wrong milestone split
with the right totals found by the net a release prints, a failing event leaving no trace, and a
batch costing a fixed number of statements however many events it holds."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chainsync.handlers.apply import events_apply
from chainsync.log.fetch import chain_fetch
from chainsync.models import ChainEvent, ChainMilestone, ChainProject
from notifications.models import Notification
from tests.chainsync.hiro_server import CLIENT, ESCROW_CONTRACT, FREELANCER, events
from tests.chainsync.scenarios import STX, chain_derived_dump, fund, notes, pending_project, sync

pytestmark = pytest.mark.django_db


def milestones(on_chain_id: int) -> list[tuple[int, int, int, bool]]:
    rows = ChainMilestone.objects.filter(project__on_chain_id=on_chain_id).order_by("slot")
    return [(m.slot, m.gross_amount, m.amount, m.released) for m in rows]


def test_a_split_of_the_same_total_and_fee_is_found_by_the_net_a_release_prints(hiro, api):
    # given: agreed as [20, 10], funded as [10, 20]: the same gross, fee and count, so the
    # off-chain amounts are trusted (no lookup) and the project is linked on a wrong split
    project = pending_project((20 * STX, 10 * STX))
    fund(hiro, project, amounts=[10 * STX, 20 * STX])
    assert sync(api).lookups == 0
    project.refresh_from_db()
    assert project.status == "active"
    assert milestones(1) == [(1, 20 * STX, 18 * STX, False), (2, 10 * STX, 9 * STX, False)]
    # when: milestone 1 is released, printing the net the contract holds for it (9 STX)
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    hiro.escrow.release_milestone_stx(client=CLIENT, project_id=1, milestone=1)
    result = sync(api)
    # then: the create call is looked up once, the projection takes the call's split, and the
    # off-chain project, never funded on its terms, is unlinked with the disagreement recorded
    assert result.lookups == 1 and len(hiro.requests_to("tx_multiple")) == 1
    assert (result.applied.applied, result.applied.failed) == (2, 0)
    assert milestones(1) == [(1, 10 * STX, 9 * STX, True), (2, 20 * STX, 18 * STX, False)]
    assert ChainProject.objects.get(on_chain_id=1).project is None
    project.refresh_from_db()
    assert (project.status, project.on_chain_id) == ("pending", None)
    assert project.funding_error == (
        f"milestone amounts {{1: {10 * STX}, 2: {20 * STX}}} are not the project's "
        f"{{1: {20 * STX}, 2: {10 * STX}}}"
    )
    assert set(project.milestones.values_list("status", "tx_hash")) == {("locked", "")}
    assert not ChainEvent.objects.exclude(state="applied").exists()
    # and a rebuild from the record gives the same database
    indexed = chain_derived_dump()
    call_command("resync", stdout=StringIO())
    assert chain_derived_dump() == indexed


def test_a_release_whose_net_no_split_explains_fails_and_leaves_no_trace(hiro, api):
    # given: an on-chain-only project (amounts from its call), milestone 1 completed, disputed
    hiro.escrow.create_project_stx(client=CLIENT, freelancer=FREELANCER, milestones=[5 * STX])
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    hiro.escrow.file_dispute(sender=CLIENT, project_id=1, milestone=1)
    sync(api)
    before = chain_derived_dump()
    # when: a release prints a net the contract never held, between two good events
    odd = events.milestone_released(project_id=1, milestone=1, amount=1)
    hiro.chain.call("release-milestone-stx", sender=CLIENT, prints=[odd])
    hiro.escrow.create_project_stx(client=CLIENT, freelancer=FREELANCER, milestones=[7 * STX])
    result = sync(api)
    # then: it fails with the reason; the milestone and its dispute are as they were
    assert (result.applied.applied, result.applied.failed) == (1, 1)
    failed = ChainEvent.objects.get(state="failed")
    assert failed.error == "ProjectionError: project 1 milestone 1: 1 paid, 4500000 escrowed"
    assert milestones(1) == before_milestones(before)
    assert ChainProject.objects.get(on_chain_id=1).disputes.get().status == "open"
    assert ChainProject.objects.filter(on_chain_id=2).exists()


def before_milestones(dump) -> list[tuple[int, int, int, bool]]:
    return [
        (slot, dict(fields)["gross_amount"], dict(fields)["amount"], dict(fields)["released"])
        for on_chain_id, slot, fields in dump["milestones"]
        if on_chain_id == 1
    ]


def _history(hiro, projects: int) -> None:
    """`projects` linked projects, each created, completed, disputed, resolved and released."""
    for i in range(1, projects + 1):
        project = pending_project((10 * STX, 20 * STX))
        fund(hiro, project)
        hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=i, milestone=1)
        hiro.escrow.file_dispute(sender=CLIENT, project_id=i, milestone=1)
        hiro.escrow.resolve_dispute_stx(project_id=i, milestone=1, to_freelancer=True)
        hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=i, milestone=2)
        hiro.escrow.release_milestone_stx(client=CLIENT, project_id=i, milestone=2)


@pytest.mark.parametrize("projects", [2, 12])
def test_a_batch_costs_the_same_statements_however_many_events_it_holds(hiro, api, projects):
    # given: 6 events per linked project, fetched
    _history(hiro, projects)
    chain_fetch(client=api, contract_id=ESCROW_CONTRACT)
    # when
    with CaptureQueriesContext(connection) as queries:
        result = events_apply(contract_id=ESCROW_CONTRACT)
    # then: every event applied, the parties told, in a number of statements that does not
    # grow with the batch (this count is the same for 12 events and for 72)
    assert (result.applied, result.failed) == (6 * projects, 0)
    assert len(notes("project_funded")) == 2 * projects
    assert len(notes("dispute_resolved")) == 2 * projects
    assert Notification.objects.filter(type="payment_released").count() == 4 * projects
    statements = [
        q for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    # 24: one more than before the log layer, the fee rates in force read from the log
    # (chainsync.log.amounts.FeeRates) rather than taken from the projection's settings row
    assert len(statements) <= 24, [q["sql"][:80] for q in statements]
