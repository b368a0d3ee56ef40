"""Hiro's hosted Chainhooks 2.0 deliveries through POST /api/blockchain/chainhook: the apply
blocks read back from the loopback API (a block and a tx/multiple batch), rollback by either
hash, redelivery, another network, and the API failing."""

from __future__ import annotations

import time
from collections import Counter
from functools import partial

import pytest
from rest_framework.test import APIClient

from chainsync.models import ChainTransaction
from tests.chainsync.hiro_server import ESCROW_CONTRACT, FREELANCER, Fault
from tests.chainsync.hiro_server.chainhook import hosted_payload
from tests.chainsync.scenarios import fund, indexer_settings, pending_project
from tests.chainsync.test_chainhook import (
    SECRET,
    last_blocks,
    post,
    pushed_rollback_redelivered,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("index_hash", [False, True], ids=["block-hash", "index-hash"])
def test_hosted_push_rollback_redelivery_equals_the_polled_state(hiro, api, index_hash):
    build = partial(hosted_payload, ESCROW_CONTRACT, index_hash=index_hash)
    pushed_rollback_redelivered(hiro, api, build)


def test_a_hosted_delivery_is_read_back_in_a_block_and_a_batch_request(hiro):
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET, ENABLED=False):
        fund(hiro, pending_project())
        hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
        before = hiro.route_counts()
        body = post(hosted_payload(ESCROW_CONTRACT, apply=last_blocks(hiro, 2))).json()
        assert body["stored"] == 2 and body["applied"] == 2, body
        assert hiro.route_counts() - before == Counter({"block": 2, "tx_multiple": 1})


def test_a_hosted_push_shows_within_a_second_with_the_indexer_off(hiro):
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET, ENABLED=False):
        fund(hiro, pending_project())
        started = time.monotonic()
        response = post(hosted_payload(ESCROW_CONTRACT, apply=last_blocks(hiro, 1)))
        shown = APIClient().get("/api/blockchain/project/1")
        assert response.status_code == 200 and shown.status_code == 200
        assert time.monotonic() - started < 1.0


def test_a_payload_of_another_network_is_counted_and_left_out(hiro):
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET):
        fund(hiro, pending_project())
        before = len(hiro.requests)
        body = post(hosted_payload(ESCROW_CONTRACT, apply=last_blocks(hiro, 1), network="mainnet"))
        assert body.status_code == 200
        assert body.json()["ignored"] == 1 and body.json()["stored"] == 0
        assert len(hiro.requests) == before  # nothing to read back
        assert not ChainTransaction.objects.exists()


def test_a_block_the_api_does_not_have_is_left_to_the_poller(hiro):
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET):
        fund(hiro, pending_project())
        payload = hosted_payload(ESCROW_CONTRACT, apply=last_blocks(hiro, 1))
        hiro.chain.fork(1, [])  # gone before the delivery is read back
        body = post(payload).json()
        assert body["stored"] == 0
        assert not ChainTransaction.objects.exists()


def test_the_api_failing_is_a_503_and_stores_nothing(hiro):
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET):
        fund(hiro, pending_project())
        hiro.inject("tx_multiple", Fault.error(500), times=None)
        response = post(hosted_payload(ESCROW_CONTRACT, apply=last_blocks(hiro, 1)))
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
