"""Hiro's hosted Chainhooks 2.0 deliveries through POST /api/blockchain/chainhook: the apply
blocks read back from the loopback API (a block and a tx/multiple batch), rollback by either
hash, redelivery, another network, and the API failing."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from rest_framework.test import APIClient

from chainsync.models import ChainEvent, ChainProject, ChainTransaction
from chainsync.verify import project_differences
from tests.chainsync.hiro_server import ESCROW_CONTRACT, FREELANCER, Fault
from tests.chainsync.hiro_server.chainhook import hosted_payload
from tests.chainsync.scenarios import STX, fund, indexer_settings, pending_project, sync
from tests.chainsync.test_chainhook import SECRET, post, projection

pytestmark = pytest.mark.django_db


def _blocks(hiro, count: int):
    return hiro.chain.blocks[-count:]


@pytest.mark.parametrize("index_hash", [False, True], ids=["block-hash", "index-hash"])
def test_hosted_push_rollback_redelivery_equals_the_polled_state(hiro, api, index_hash):
    payloads = []
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET, ENABLED=False):
        fund(hiro, pending_project())
        fund(hiro, pending_project((5 * STX,)))
        hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
        hiro.chain.advance(1)
        payloads.append(
            hosted_payload(ESCROW_CONTRACT, apply=_blocks(hiro, 4), index_hash=index_hash)
        )
        before = hiro.route_counts()
        response = post(payloads[-1])
        assert response.status_code == 200, response.json()
        assert response.json()["stored"] == 3 and response.json()["applied"] == 3
        # read back from the API: a block request per block with our txs, one batch
        assert hiro.route_counts() - before == Counter({"block": 3, "tx_multiple": 1})
        old = _blocks(hiro, 3)
        new = hiro.chain.fork(3)
        payloads.append(
            hosted_payload(ESCROW_CONTRACT, apply=new, rollback=old, index_hash=index_hash)
        )
        body = post(payloads[-1]).json()
        assert body["rolledBack"] == 2 and body["readmitted"] == 2, body
        for payload in payloads:  # at-least-once: every payload again
            again = post(payload)
            assert again.status_code == 200 and again.json()["stored"] == 0, again.json()
        pushed = projection()
        assert ChainProject.objects.count() == 2
        assert not ChainEvent.objects.filter(canonical=True, state="pending").exists()
        # the pushed record is the contract's state (its read-only functions), with no poll
        _, differences = project_differences(client=api, contract_id=ESCROW_CONTRACT)
        assert differences == []
        sync(api)  # the poller confirms: its view of the chain changes nothing
        assert projection() == pushed
        stored = set(
            ChainTransaction.objects.filter(canonical=True).values_list("tx_id", "index_block_hash")
        )
        canonical = {(t.tx_id, b.index_hash) for b in hiro.chain.blocks for t in b.txs if t.events}
        assert stored <= canonical


def test_a_hosted_push_shows_within_a_second_with_the_indexer_off(hiro):
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET, ENABLED=False):
        fund(hiro, pending_project())
        started = time.monotonic()
        response = post(hosted_payload(ESCROW_CONTRACT, apply=_blocks(hiro, 1)))
        shown = APIClient().get("/api/blockchain/project/1")
        assert response.status_code == 200 and shown.status_code == 200
        assert time.monotonic() - started < 1.0


def test_a_payload_of_another_network_is_counted_and_left_out(hiro):
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET):
        fund(hiro, pending_project())
        before = len(hiro.requests)
        body = post(hosted_payload(ESCROW_CONTRACT, apply=_blocks(hiro, 1), network="mainnet"))
        assert body.status_code == 200
        assert body.json()["ignored"] == 1 and body.json()["stored"] == 0
        assert len(hiro.requests) == before  # nothing to read back
        assert not ChainTransaction.objects.exists()


def test_a_block_the_api_does_not_have_is_left_to_the_poller(hiro):
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET):
        fund(hiro, pending_project())
        payload = hosted_payload(ESCROW_CONTRACT, apply=_blocks(hiro, 1))
        hiro.chain.fork(1, [])  # gone before the delivery is read back
        body = post(payload).json()
        assert body["stored"] == 0
        assert not ChainTransaction.objects.exists()


def test_the_api_failing_is_a_503_and_stores_nothing(hiro):
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET):
        fund(hiro, pending_project())
        hiro.inject("tx_multiple", Fault.error(500), times=None)
        response = post(hosted_payload(ESCROW_CONTRACT, apply=_blocks(hiro, 1)))
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "chain_api_unavailable"
        assert not ChainTransaction.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"chainhook": {}},  # neither shape
        {"apply": [], "rollback": [], "event": {}},  # both
        {"event": {"chain": "stacks", "network": "testnet", "apply": "x", "rollback": []}},
    ],
    ids=["neither", "both", "apply-not-a-list"],
)
def test_a_body_of_neither_shape_or_both_stores_nothing(hiro, body):
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET):
        response = post(body)
        assert response.status_code in (400, 422), response.json()
        expected = "validation_error" if response.status_code == 400 else "chainhook_malformed"
        assert response.json()["error"]["code"] == expected
        assert not ChainTransaction.objects.exists()
