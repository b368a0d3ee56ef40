"""The off-chain side of a batch (chainsync.handlers.apply, projects.services.chain_book)
against the loopback Hiro API: the block times it reads for dispute records, only for the projects
that can have one, still reach every dispute of a linked project, linked before the batch or
within it."""

from __future__ import annotations

from datetime import datetime

import pytest

from chainsync.models import ChainTransaction
from projects.models import Dispute
from tests.chainsync.hiro_server import CLIENT, FREELANCER
from tests.chainsync.scenarios import STX, fund, pending_project, sync

pytestmark = pytest.mark.django_db


def block_time(tx_id: str) -> datetime:
    return ChainTransaction.objects.get(tx_id=tx_id).block_time


def test_disputes_of_linked_projects_take_their_blocks_time_in_a_mixed_batch(hiro, api):
    # given: a project linked by an earlier poll
    before = pending_project()
    fund(hiro, before)
    sync(api)
    # when: one batch holds a dispute on it, a project funded and disputed in the same batch,
    # and a dispute on an on-chain-only project
    first = hiro.escrow.file_dispute(sender=CLIENT, project_id=1, milestone=1)
    within = pending_project()
    fund(hiro, within)
    second = hiro.escrow.file_dispute(sender=CLIENT, project_id=2, milestone=2)
    hiro.escrow.create_project_stx(client=CLIENT, freelancer=FREELANCER, milestones=[5 * STX])
    hiro.escrow.file_dispute(sender=CLIENT, project_id=3, milestone=1)
    result = sync(api)
    # then: every event applied; the linked projects' disputes filed at their blocks' time
    assert (result.applied.applied, result.applied.failed) == (5, 0)
    disputes = {d.project_id: d for d in Dispute.objects.all()}
    assert set(disputes) == {before.pk, within.pk}
    assert disputes[before.pk].filed_at == block_time(first.tx_id)
    assert disputes[within.pk].filed_at == block_time(second.tx_id)
    assert block_time(first.tx_id) != block_time(second.tx_id)
