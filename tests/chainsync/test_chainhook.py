"""Chainhook push ingestion through POST /api/blockchain/chainhook: payloads built from the fake
chain's blocks (what polling sees), rollback then apply, redelivery, the poller's confirmation,
and the bad inputs."""

from __future__ import annotations

import json
import time
from functools import partial

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from chainsync.models import ChainEvent, ChainProject, ChainTransaction
from chainsync.verify import project_differences
from tests.chainsync.hiro_server import CLIENT, ESCROW_CONTRACT, FREELANCER
from tests.chainsync.hiro_server.chainhook import chainhook_payload
from tests.chainsync.hiro_server.prints import EscrowPrints
from tests.chainsync.scenarios import (
    STX,
    chain_derived_dump,
    fund,
    indexer_settings,
    pending_project,
    sync,
)

pytestmark = pytest.mark.django_db
SECRET = "s3cret-for-tests"
URL = "/api/blockchain/chainhook"
PROJECTION = ("settings", "projects", "milestones", "disputes", "offchain", "offchain_milestones")


def post(body, secret: str | None = SECRET, **extra):
    client = APIClient()
    if secret is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **extra)


def projection() -> dict:
    dump = chain_derived_dump()
    return {key: dump[key] for key in PROJECTION}


def last_blocks(hiro, count: int):
    return hiro.chain.blocks[-count:]


def pushed_rollback_redelivered(hiro, api, payload_of) -> None:
    """Push 4 blocks, then a 3-block fork as rollback plus apply, then every payload again
    (`payload_of(apply=, rollback=)` builds a body): the record is the contract's state with no
    poll, and a poll changes nothing."""
    payloads = []
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET, ENABLED=False):
        fund(hiro, pending_project())
        fund(hiro, pending_project((5 * STX,)))
        hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
        hiro.chain.advance(1)
        payloads.append(payload_of(apply=last_blocks(hiro, 4), rollback=()))
        response = post(payloads[-1])
        assert response.status_code == 200, response.json()
        assert response.json()["stored"] == 3 and response.json()["applied"] == 3
        old = last_blocks(hiro, 3)
        new = hiro.chain.fork(3)
        payloads.append(payload_of(apply=new, rollback=old))
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


def test_push_rollback_redelivery_equals_the_polled_state(hiro, api):
    pushed_rollback_redelivered(hiro, api, partial(chainhook_payload, ESCROW_CONTRACT))


def test_a_pushed_event_shows_within_a_second_with_the_indexer_off(hiro, api):
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET, ENABLED=False):
        fund(hiro, pending_project())
        started = time.monotonic()
        assert (
            post(chainhook_payload(ESCROW_CONTRACT, apply=last_blocks(hiro, 1))).status_code == 200
        )
        shown = APIClient().get("/api/blockchain/project/1")
        assert time.monotonic() - started < 1.0
        assert shown.status_code == 200


def test_the_poller_rolls_back_a_pushed_block_the_chain_lost(hiro, api):
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET):
        fund(hiro, pending_project())
        post(chainhook_payload(ESCROW_CONTRACT, apply=last_blocks(hiro, 1)))
        hiro.chain.fork(1, [])  # the block is gone, its tx back in the mempool
        sync(api)
        assert not ChainEvent.objects.filter(canonical=True).exists()
        assert not ChainProject.objects.exists()


def test_other_contracts_prints_are_counted_and_left_out(hiro):
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET):
        other = "ST000000000000000000002AMW42H.other"
        noise = EscrowPrints.fee_rate_updated(new_rate=5)
        from dataclasses import replace

        hiro.chain.mine(
            hiro.chain.tx("noise", sender=CLIENT, prints=[replace(noise, contract_id=other)])
        )
        body = post(
            chainhook_payload(ESCROW_CONTRACT, apply=last_blocks(hiro, 1), every_contract=True)
        ).json()
        assert body["ignored"] == 1 and body["stored"] == 0
        assert not ChainEvent.objects.exists()


def test_a_rollback_of_unknown_blocks_changes_nothing(hiro):
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET):
        fund(hiro, pending_project())
        body = post(chainhook_payload(ESCROW_CONTRACT, rollback=last_blocks(hiro, 1))).json()
        assert body["rolledBack"] == 0
        assert not ChainTransaction.objects.exists()


@pytest.mark.parametrize(
    ("secret", "body", "status", "code"),
    [
        (None, {"apply": [], "rollback": []}, 401, "chainhook_unauthorized"),
        ("wrong", {"apply": [], "rollback": []}, 401, "chainhook_unauthorized"),
        (SECRET, "{not json", 400, "parse_error"),
        (SECRET, {"apply": [{"block_identifier": {}}], "rollback": []}, 422, "chainhook_malformed"),
        (SECRET, {"apply": "x", "rollback": []}, 400, "validation_error"),
        (SECRET, {"apply": [], "rollback": [], "extra": 1}, 400, "validation_error"),
        (SECRET, b"[" + b" " * (5 * 1024 * 1024) + b"]", 413, "payload_too_large"),
    ],
)
def test_bad_input_stores_nothing(hiro, secret, body, status, code):
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET):
        fund(hiro, pending_project())
        if isinstance(body, dict) and body == {"apply": [], "rollback": []}:
            body = chainhook_payload(ESCROW_CONTRACT, apply=last_blocks(hiro, 1))
        response = post(body, secret)
        assert response.status_code == status
        assert response.json()["error"]["code"] == code
        assert not ChainTransaction.objects.exists()


def test_without_the_secret_the_endpoint_is_off(hiro):
    with indexer_settings(hiro, CHAINHOOK_SECRET=""):
        response = post({"apply": [], "rollback": []})
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "chainhook_disabled"


def test_chainhook_predicate_command_prints_the_predicate(hiro, capsys):
    with indexer_settings(hiro, CHAINHOOK_SECRET=SECRET):
        call_command("chainhook_predicate", "--url", "https://x.test/api/blockchain/chainhook")
    predicate = json.loads(capsys.readouterr().out)
    network = predicate["networks"]["testnet"]
    assert network["if_this"] == {
        "scope": "print_event",
        "contract_identifier": ESCROW_CONTRACT,
        "contains": "*",
    }
    assert network["then_that"]["http_post"] == {
        "url": "https://x.test/api/blockchain/chainhook",
        "authorization_header": f"Bearer {SECRET}",
    }
