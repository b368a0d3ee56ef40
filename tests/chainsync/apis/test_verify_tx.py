"""POST /api/blockchain/verify-tx through DRF's test client, with the indexer run against the
loopback Hiro API, which answers the transaction lookups too."""

from __future__ import annotations

import pytest

from chainsync.models import ChainEvent
from stacks import uint
from tests.chainsync.apis.helpers import EVENT_KEYS, api_down, on_chain_only, sync, verify
from tests.chainsync.hiro_server import CLIENT, FREELANCER
from tests.projects.test_apis import assert_error

pytestmark = pytest.mark.django_db


# --- POST /api/blockchain/verify-tx ---------------------------------------------------------


def test_verify_a_successful_transaction(chain, anon):
    create = on_chain_only(chain)
    sync(chain)
    chain.chain.advance(2)
    sync(chain)
    response = verify(anon, txId=create.tx_id, expectedEvent="project-created")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"confirmed", "status", "blockHeight", "confirmations", "events", "error"}
    assert (body["confirmed"], body["status"], body["error"]) == (True, "success", None)
    assert body["blockHeight"] == ChainEvent.objects.get().block_height
    assert body["confirmations"] == 3  # its block and two more
    [event] = body["events"]
    assert set(event) == EVENT_KEYS and event["event"] == "project-created"
    # without an expectation, and with an upper-case id
    plain = verify(anon, txId="0x" + create.tx_id[2:].upper()).json()
    assert plain["confirmed"] is True and len(plain["events"]) == 1


def test_verify_an_aborted_transaction_names_the_contract_error(chain, anon):
    on_chain_only(chain)
    aborted = chain.chain.call(
        "release-milestone-stx", sender=CLIENT, args=[uint(1), uint(2)], error=106
    )
    sync(chain)
    body = verify(anon, txId=aborted.tx_id, expectedEvent="milestone-released").json()
    assert (body["confirmed"], body["status"], body["events"]) == (
        False,
        "abort_by_response",
        [],
    )
    assert body["error"]["code"] == 106 and body["error"]["name"] == "ERR-ALREADY-RELEASED"
    assert "ERR-ALREADY-RELEASED (u106)" in body["error"]["reason"]
    assert body["blockHeight"] == chain.chain.tip.height and body["confirmations"] == 1


def test_verify_an_aborted_transaction_with_a_token_error(chain, anon):
    on_chain_only(chain)
    aborted = chain.chain.call("create-project-stx", sender=CLIENT, error=1)
    error = verify(anon, txId=aborted.tx_id).json()["error"]
    assert (error["code"], error["name"]) == (1, None)


def test_verify_an_expected_event_that_is_missing(chain, anon):
    on_chain_only(chain)
    complete = chain.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=2)
    sync(chain)
    body = verify(anon, txId=complete.tx_id, expectedEvent="milestone-released").json()
    assert (body["confirmed"], body["status"]) == (False, "success")
    assert [e["event"] for e in body["events"]] == ["milestone-completed"]
    assert body["error"]["code"] is None and body["error"]["name"] is None
    assert "milestone-released" in body["error"]["reason"]
    assert "milestone-completed" in body["error"]["reason"]


def test_verify_a_transaction_the_indexer_has_not_reached(chain, anon):
    create = on_chain_only(chain)  # mined, not indexed
    body = verify(anon, txId=create.tx_id, expectedEvent="project-created").json()
    assert (body["confirmed"], body["events"]) == (False, [])
    assert "has not reached block" in body["error"]["reason"]


def test_verify_a_pending_transaction(chain, anon):
    tx = chain.chain.tx("complete-milestone", sender=FREELANCER, args=[uint(1), uint(1)], prints=[])
    chain.chain.submit(tx)
    body = verify(anon, txId=tx.tx_id).json()
    assert (body["confirmed"], body["status"], body["blockHeight"], body["confirmations"]) == (
        False,
        "pending",
        None,
        0,
    )
    assert "not in a block" in body["error"]["reason"]


def test_verify_a_transaction_of_another_contract(chain, anon):
    other = chain.chain.call(
        "transfer", sender=CLIENT, contract_id="ST1F7QA2MDF17S807EPA36TSS8AMEFY4KA9TVGWXT.token"
    )
    body = verify(anon, txId=other.tx_id).json()
    assert body["confirmed"] is False and "not a call to the escrow" in body["error"]["reason"]


def test_verify_an_unknown_transaction_is_a_404(chain, anon):
    assert_error(verify(anon, txId="0x" + "ab" * 32), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"txId": "0x1234"}, "txId"),
        ({"txId": "ab" * 32}, "txId"),
        ({}, "txId"),
        ({"txId": "0x" + "ab" * 32, "expectedEvent": "bogus"}, "expectedEvent"),
        ({"txId": "0x" + "ab" * 32, "status": "success"}, "status"),
    ],
)
def test_verify_refuses_bad_input(chain, anon, body, field):
    assert_error(verify(anon, **body), 400, "validation_error", field)
    assert chain.requests == []


def test_verify_with_the_api_down_is_a_503(chain, anon, settings):
    api_down(settings)
    error = assert_error(verify(anon, txId="0x" + "ab" * 32), 503, "chain_api_unavailable")
    assert "Stacks API" in error["message"]
