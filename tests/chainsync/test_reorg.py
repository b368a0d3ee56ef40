"""Forks against the loopback Hiro API: the provisional tail re-checked each poll, orphaned
events marked non-canonical, affected projects rebuilt from the canonical log, parties told."""

from __future__ import annotations

import dataclasses

import pytest

from chainsync.log import tail as reorg
from chainsync.log.fetch import chain_fetch
from chainsync.models import ChainEvent, ChainProject, ChainTransaction, ContractSettings, SyncState
from tests.chainsync.hiro_server import (
    CLIENT,
    ESCROW_CONTRACT,
    FREELANCER,
    Print,
    events,
)
from tests.chainsync.scenarios import STX, fund, notes, pending_project, sync
from tests.factories import make_address

pytestmark = pytest.mark.django_db


def event_of(tx) -> ChainEvent:
    return ChainEvent.objects.get(tx_id=tx.tx_id)


def test_a_fork_undoes_the_last_blocks_and_a_remined_tx_is_applied_once(hiro, api):
    # given: a funded project, milestone 1 completed then released, all indexed
    project = pending_project()
    fund(hiro, project)
    complete = hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    release = hiro.escrow.release_milestone_stx(client=CLIENT, project_id=1, milestone=1)
    sync(api)
    assert project.milestones.get(number=1).status == "approved"
    # when: a fork replaces both blocks by one holding only the completion (mined again)
    hiro.chain.fork(2, [complete])
    blocks_before = len(hiro.requests_to("block"))
    result = sync(api)
    # then: the release is orphaned and undone, the completion moved and kept
    assert result.tail.orphaned == tuple(sorted([complete.tx_id, release.tx_id]))
    assert result.tail.readmitted == (complete.tx_id,)
    # complete (listed in another block) and release (not listed); the listing vouches for the
    # deploy's and the create's blocks
    assert len(hiro.requests_to("block")) - blocks_before == 2
    released = event_of(release)
    assert (released.canonical, released.state) == (False, "pending")
    completed = event_of(complete)
    assert (completed.canonical, completed.state) == (True, "applied")
    assert completed.block_height == hiro.chain.tip.height
    tx = ChainTransaction.objects.get(tx_id=release.tx_id)
    assert (tx.canonical, tx.status) == (False, "pending")
    project.refresh_from_db()
    assert project.status == "active"
    assert project.milestones.get(number=1).status == "submitted"
    milestone = ChainProject.objects.get(on_chain_id=1).milestones.get(slot=1)
    assert milestone.complete and not milestone.released
    assert sorted(notes("chain_reorg")) == sorted([CLIENT, FREELANCER])
    assert notes("milestone_submitted") == [CLIENT]  # the completion was not news again
    assert result.reorg.undone == (1,) and result.reorg.rebuilt == (1,)
    state = SyncState.objects.get(contract_id=ESCROW_CONTRACT)
    assert state.reorgs == 1 and state.reorg_due == {}
    assert state.last_indexed_hash == completed.block_hash

    # when: the release is mined again later
    hiro.chain.mine(release)
    again = sync(api)
    # then: it is re-admitted and applied once more, with its news
    assert again.tail.readmitted == (release.tx_id,)
    released = event_of(release)
    assert (released.canonical, released.state) == (True, "applied")
    assert ChainEvent.objects.filter(tx_id=release.tx_id).count() == 1
    assert project.milestones.get(number=1).status == "approved"
    assert notes("payment_released") == [FREELANCER, FREELANCER]
    assert len(notes("chain_reorg")) == 2  # nothing undone this time
    assert SyncState.objects.get(contract_id=ESCROW_CONTRACT).events_applied >= 3


def test_news_in_the_replacement_blocks_is_told_once(hiro, api):
    # given: milestone 1 completed, indexed
    project = pending_project()
    fund(hiro, project)
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    dispute = hiro.escrow.file_dispute(sender=CLIENT, project_id=1, milestone=1, mine=False)
    hiro.escrow.release_milestone_stx(client=CLIENT, project_id=1, milestone=1)
    sync(api)
    # when: the fork replaces the release with a dispute
    hiro.chain.fork(1, [dispute])
    sync(api)
    # then
    project.refresh_from_db()
    assert project.status == "disputed"
    assert project.milestones.get(number=1).status == "disputed"
    assert sorted(notes("dispute_filed")) == sorted([CLIENT, FREELANCER])
    assert sorted(notes("chain_reorg")) == sorted([CLIENT, FREELANCER])
    # the next poll has nothing left to settle
    assert sync(api).reorg.rebuilt == ()
    assert sorted(notes("dispute_filed")) == sorted([CLIENT, FREELANCER])


def test_a_call_executed_again_may_print_other_values(hiro, api):
    # given: the escrow of an off-chain project created as on-chain project 1
    project = pending_project()
    create = fund(hiro, project)
    sync(api)
    assert ChainProject.objects.get(on_chain_id=1).project_id == project.pk
    # when: a fork puts another client's create first; ours runs again and gets id 2
    other = make_address("other client")
    theirs = hiro.escrow.create_project_stx(
        client=other, freelancer=FREELANCER, milestones=[5 * STX], project_id=1, mine=False
    )
    created_again = events.project_created(
        project_id=2, client=CLIENT, freelancer=FREELANCER, milestones=[10 * STX, 20 * STX]
    )
    transfers = [e for e in create.events if not isinstance(e, Print)]
    ours = dataclasses.replace(create, events=(*transfers, created_again))
    hiro.chain.fork(1, [theirs, ours])
    sync(api)
    # then: the stored print is the new one, and both projects are right
    assert event_of(create).payload["project-id"] == 2
    assert ChainProject.objects.get(on_chain_id=1).client == other
    assert ChainProject.objects.get(on_chain_id=2).project_id == project.pk
    project.refresh_from_db()
    assert (project.status, project.on_chain_id) == ("active", 2)
    assert sorted(notes("chain_reorg")) == sorted([CLIENT, FREELANCER])


def test_a_fork_that_undoes_a_settings_event_rebuilds_everything(hiro, api):
    hiro.chain.call(
        "set-fee-rate", sender=CLIENT, args=[], prints=[events.fee_rate_updated(new_rate=500)]
    )
    sync(api)
    assert ContractSettings.objects.get().fee_rate == 500
    hiro.chain.fork(1, [])
    result = sync(api)
    assert result.reorg.rebuilt is None
    assert ContractSettings.objects.get().fee_rate == 1000


def test_an_event_is_provisional_until_enough_blocks_then_final(hiro, api, settings):
    settings.CHAINSYNC = {**settings.CHAINSYNC, "CONFIRMATIONS": 3}
    fund(hiro, pending_project())
    sync(api)
    created = ChainEvent.objects.get()

    def final() -> bool:
        tip = SyncState.objects.get(contract_id=ESCROW_CONTRACT).chain_tip_height
        return reorg.is_final(created.block_height, tip)

    assert not final()
    hiro.chain.advance(2)
    sync(api)
    assert not final()
    hiro.chain.advance(1)
    sync(api)  # still probes: the window is that of the last poll's tip
    assert final()
    # when: final, the block is no longer probed, not even when a deeper fork replaces it
    before = len(hiro.requests_to("block"))
    sync(api)
    hiro.chain.fork(4, [])
    result = sync(api)
    assert len(hiro.requests_to("block")) == before
    assert result.tail.orphaned == ()
    assert ChainEvent.objects.get().canonical  # verify_sync is what catches forks this deep


def test_a_crash_between_the_tail_check_and_the_settle_loses_no_rebuild(hiro, api, monkeypatch):
    project = pending_project()
    fund(hiro, project)
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    sync(api)
    hiro.chain.fork(1, [])
    from chainsync import indexer as poll

    real = chain_fetch

    def crash(**kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(poll, "chain_fetch", crash)
    with pytest.raises(RuntimeError):
        sync(api)
    assert SyncState.objects.get(contract_id=ESCROW_CONTRACT).reorg_due["undone"] == [1]
    monkeypatch.setattr(poll, "chain_fetch", real)
    sync(api)
    assert project.milestones.get(number=1).status == "locked"
    assert sorted(notes("chain_reorg")) == sorted([CLIENT, FREELANCER])


def test_no_fork_costs_no_block_request_when_the_listing_vouches_for_the_tail(hiro, api):
    fund(hiro, pending_project())
    sync(api)
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    before = len(hiro.requests_to("block"))
    result = sync(api)
    assert result.tail.heights == 2  # deploy, create
    assert len(hiro.requests_to("block")) - before == result.tail.probed == 0
    assert result.reorg.rebuilt == () and hiro.requests_to("tx_v1") == []


def test_a_block_missing_below_the_tip_fails_the_poll_and_orphans_nothing(hiro, api):
    from chainsync.client import StacksApiBadResponse
    from tests.chainsync.hiro_server import Fault

    fund(hiro, pending_project())
    sync(api)
    # the transactions listing vouches for nothing (an empty head page), so blocks are asked
    empty = {"limit": 50, "total": 0, "cursor": {"current": None, "next": None, "previous": None}}
    hiro.inject("principal_transactions", Fault.respond(200, empty | {"results": []}))
    hiro.inject("block", Fault.respond(404, {"error": "Not Found", "message": "?"}), times=None)
    hiro.chain.advance(1)  # the tip moved: the poll checks the tail
    with pytest.raises(StacksApiBadResponse, match="missing at or below the tip"):
        sync(api)
    assert ChainEvent.objects.get().canonical
    assert SyncState.objects.get(contract_id=ESCROW_CONTRACT).reorgs == 0


def test_an_orphan_is_looked_up_each_poll_until_it_is_dropped(hiro, api):
    fund(hiro, pending_project())
    complete = hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    sync(api)
    hiro.chain.fork(1, [])
    sync(api)
    sync(api)
    assert len(hiro.requests_to("tx_v1")) == 2  # once per poll while it waits in the mempool
    hiro.chain.drop(complete)
    sync(api)
    sync(api)
    assert len(hiro.requests_to("tx_v1")) == 3
    assert ChainTransaction.objects.get(tx_id=complete.tx_id).status == "dropped_replace_by_fee"


def test_without_the_v1_route_a_remined_tx_keeps_its_stored_prints(hiro, api):
    project = pending_project()
    fund(hiro, project)
    complete = hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    sync(api)
    old_block = event_of(complete).block_hash
    hiro.disable("tx_v1", status=410)
    hiro.chain.fork(1)  # the same txs, mined again in a new block
    sync(api)
    completed = event_of(complete)
    assert completed.canonical and completed.block_hash != old_block
    assert completed.block_hash == hiro.chain.tip.hash
    assert project.milestones.get(number=1).status == "submitted"
    assert notes("chain_reorg") == [] and notes("milestone_submitted") == [CLIENT]


def test_without_a_recorded_tip_only_the_newest_heights_are_probed(hiro, api):
    # given: ten calls in ten blocks stored by a walk that never recorded the tip
    fund(hiro, pending_project())
    for _ in range(9):
        hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    sync(api)
    SyncState.objects.filter(contract_id=ESCROW_CONTRACT).update(
        chain_tip_height=0, last_indexed_hash=""
    )
    # when
    result = sync(api)
    # then: the window ends at the newest stored tx, not at height 0
    assert result.tail.heights == 6
