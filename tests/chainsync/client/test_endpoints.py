"""Every route of the Stacks API client, round trip against the fake API on loopback."""

from __future__ import annotations

from typing import Any

import pytest

from chainsync.client import CallReadFailed, StacksApiClient, StacksApiNotFound
from stacks import (
    bool_,
    clarity_decode,
    none,
    ok,
    principal,
    some,
    string_ascii,
    tuple_,
    uint,
)
from tests.chainsync.client.helpers import ESCROW, sample, sample_story
from tests.chainsync.hiro_server import CLIENT, DEPLOYER, FREELANCER, STX, Fault, HiroServer, events

# --- every endpoint, round trip ------------------------------------------------------------


def test_status_reports_the_indexed_tip(hiro: HiroServer, api: StacksApiClient) -> None:
    tip = hiro.chain.advance(3)

    status = api.status()

    assert status.status == "ready"
    assert status.chain_tip is not None
    assert (status.chain_tip.block_height, status.chain_tip.index_block_hash) == (
        tip.height,
        tip.index_hash,
    )
    assert status.chain_tip.burn_block_height == tip.burn_height


def test_info_reports_the_network_and_node_tip(hiro: HiroServer, api: StacksApiClient) -> None:
    info = api.info()

    assert info.network_id == 2147483648
    assert info.stacks_tip_height == hiro.chain.tip.height
    assert info.stacks_tip == hiro.chain.tip.hash  # the bare hex gets its 0x back
    assert info.is_fully_synced is True


def test_block_by_height_hash_index_hash_and_latest(hiro: HiroServer, api: StacksApiClient) -> None:
    block = hiro.chain.advance(2)

    by_height = api.block(block.height)

    assert by_height.index_block_hash == block.index_hash
    assert by_height.parent_index_block_hash == block.parent_index_hash
    assert (by_height.canonical, by_height.burn_block_height) == (True, block.burn_height)
    assert api.block(block.hash) == by_height
    assert api.block(block.index_hash.removeprefix("0x")) == by_height
    assert api.block("latest") == by_height


def test_an_orphaned_block_is_not_found(hiro: HiroServer, api: StacksApiClient) -> None:
    old = hiro.chain.advance(2)
    hiro.chain.fork(1)

    with pytest.raises(StacksApiNotFound):
        api.block(old.index_hash)
    assert api.block(old.height).index_block_hash != old.index_hash


def test_contract_logs_page_back_by_cursor(hiro: HiroServer, api: StacksApiClient) -> None:
    txs = sample_story(hiro)

    head = api.contract_logs(ESCROW, limit=2)
    older = api.contract_logs(ESCROW, cursor=head.older_cursor, limit=2)

    assert [log.tx_id for log in head.results] == [txs["release"].tx_id, txs["complete"].tx_id]
    assert [log.tx_id for log in older.results] == [txs["create"].tx_id]
    assert (head.total, head.source, older.older_cursor, older.newer_cursor) == (
        3,
        "v2",
        None,
        head.cursor,
    )
    created = older.results[0].value()
    assert created == clarity_decode(
        sample("v1_contract_events")["results"][2]["contract_log"]["value"]["hex"]
    )


def test_contract_logs_cursor_below_every_event_is_an_empty_page(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    sample_story(hiro)

    page = api.contract_logs(ESCROW, cursor="1:0:0:0")

    assert page.results == ()
    assert page.older_cursor is None
    assert hiro.requests_to("contract_events") == []  # a 404 "Cursor not found" is no fallback


def test_contract_logs_of_an_unknown_contract_are_empty(api: StacksApiClient) -> None:
    page = api.contract_logs(f"{DEPLOYER}.nothing-here")

    assert (page.results, page.total) == ((), 0)


def test_contract_events_page_by_offset(hiro: HiroServer, api: StacksApiClient) -> None:
    txs = sample_story(hiro)

    page = api.contract_events(ESCROW, offset=1, limit=1)

    assert [log.tx_id for log in page.results] == [txs["complete"].tx_id]
    assert (page.source, page.total, page.offset) == ("v1", None, 1)


def test_transaction_from_v3(hiro: HiroServer, api: StacksApiClient) -> None:
    create = sample_story(hiro)["create"]
    expected_args = [
        arg["hex"] for arg in sample("v3_transaction")["contract_call"]["function_args"]
    ]

    tx = api.transaction(create.tx_id)

    assert (tx.source, tx.status, tx.canonical, tx.events) == ("v3", "success", True, None)
    assert tx.contract_call is not None
    assert tx.contract_call.function_name == "create-project-stx"
    assert list(tx.contract_call.function_args or ()) == expected_args
    assert tx.result() == ok(uint(1))
    assert tx.burn_block_height == 152310
    block = hiro.chain.block_at(tx.block_height or 0)
    assert block is not None and tx.index_block_hash == block.index_hash
    assert hiro.requests_to("tx_v3")[0].params["include"] == ["function_args,result"]


def test_transaction_with_events_reads_v1(hiro: HiroServer, api: StacksApiClient) -> None:
    create = sample_story(hiro)["create"]

    tx = api.transaction(create.tx_id.removeprefix("0x").upper(), events=True)

    assert (tx.source, tx.tx_id, tx.event_count) == ("v1", create.tx_id, 3)
    assert tx.events is not None
    transfers = [(e.asset.sender, e.asset.recipient, e.asset.amount) for e in tx.events if e.asset]
    assert transfers == [(CLIENT, ESCROW, 40 * STX), (ESCROW, DEPLOYER, 4 * STX)]
    (log,) = [e.contract_log for e in tx.events if e.contract_log]
    assert (
        log.value_hex == sample("v1_tx_create_project")["events"][2]["contract_log"]["value"]["hex"]
    )
    assert hiro.requests_to("tx_v3") == []


def test_transaction_events_beyond_one_page_are_all_read(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    prints = [events.milestone_reset(project_id=1, milestone=i) for i in range(130)]
    tx = hiro.chain.call("admin-reset-milestone", sender=DEPLOYER, prints=prints)

    fetched = api.transaction(tx.tx_id, events=True)

    assert [event.event_index for event in fetched.events or ()] == list(range(130))
    assert len(hiro.requests_to("tx_v1")) == 2


def test_an_aborted_call_has_its_error_and_no_events(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    aborted = sample_story(hiro)["aborted"]

    tx = api.transaction(aborted.tx_id, events=True)

    assert (tx.status, tx.events, tx.result_hex) == (
        "abort_by_response",
        (),
        sample("v1_tx_aborted")["tx_result"]["hex"],
    )


def test_an_unknown_transaction_is_not_found_on_either_route(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    with pytest.raises(StacksApiNotFound):
        api.transaction("0x" + "ab" * 32)

    assert [r.route for r in hiro.requests] == ["tx_v3", "tx_v1"]
    api.transaction(hiro.chain.tip.txs[0].tx_id)  # v3 is still the first choice
    assert hiro.requests[-1].route == "tx_v3"


def test_an_orphaned_transaction_reads_as_pending_until_mined_again(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    complete = sample_story(hiro)["complete"]
    hiro.chain.fork(3, [], [], [])  # complete, release and the abort all drop out

    pending = api.transaction(complete.tx_id)
    old_copy = api.transaction(complete.tx_id, events=True)
    hiro.chain.drop(complete)
    dropped = api.transaction(complete.tx_id)
    hiro.chain.mine(complete)
    remined = api.transaction(complete.tx_id)

    assert (pending.status, pending.mined, pending.canonical) == ("pending", False, False)
    assert (old_copy.status, old_copy.mined) == ("pending", False)  # v1: mempool before orphan
    assert dropped.status == "dropped_replace_by_fee"
    assert (remined.status, remined.canonical, remined.block_height) == (
        "success",
        True,
        hiro.chain.tip.height,
    )


def test_principal_transactions_page_from_newest_to_oldest(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    txs = sample_story(hiro)

    first = api.principal_transactions(ESCROW, limit=4)
    second = api.principal_transactions(ESCROW, cursor=first.older_cursor, limit=4)

    assert [tx.tx_id for tx in first.results] == [
        txs[name].tx_id for name in ("aborted", "release", "complete", "create")
    ]
    assert [tx.tx_type for tx in second.results] == ["smart_contract"]  # the deploy
    assert (first.total, second.older_cursor) == (5, None)
    release = first.results[1]
    assert (release.function_name, release.involvement, release.stx_sent) == (
        "release-milestone-stx",
        "affected",
        9 * STX,
    )


def test_principal_transactions_since_stops_at_a_known_tx(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    txs = sample_story(hiro)

    newer = api.principal_transactions_since(
        ESCROW, known=lambda tx: tx.tx_id == txs["complete"].tx_id, limit=1
    )

    assert [tx.tx_id for tx in newer] == [txs["release"].tx_id, txs["aborted"].tx_id]


# --- call-read ----------------------------------------------------------------------------


def test_call_read_decodes_the_sample_get_project_answer(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    recorded = sample("call_read_get_project")
    hiro.inject("call_read", Fault.respond(200, recorded["_response_200"]))

    value = api.call_read(ESCROW, "get-project", [uint(1)], sender=CLIENT)

    assert value == some(
        tuple_(
            {
                "client": principal(CLIENT),
                "created-at": uint(152310),
                "fee-paid": uint(4 * STX),
                "freelancer": principal(FREELANCER),
                "num-milestones": uint(4),
                "refunded": bool_(False),
                "token-type": uint(0),
                "total-amount": uint(36 * STX),
            }
        )
    )
    request = hiro.requests_to("call_read")[0]
    assert request.path == recorded["_request"]["path"]
    assert request.body == recorded["_request"]["body"]


def test_call_read_get_project_from_the_chain_matches_the_sample(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    sample_story(hiro)

    value = api.call_read(ESCROW, "get-project", [uint(1)], sender=CLIENT)

    assert value == clarity_decode(sample("call_read_get_project")["_response_200"]["result"])


def test_call_read_milestone_dispute_and_count(hiro: HiroServer, api: StacksApiClient) -> None:
    sample_story(hiro)
    hiro.escrow.file_dispute(sender=CLIENT, project_id=1, milestone=3)

    def read(function: str, *args: int) -> Any:
        return api.call_read(ESCROW, function, [uint(a) for a in args], sender=CLIENT)

    assert read("get-project-count") == uint(1)
    assert read("get-milestone", 1, 2) == some(
        tuple_(
            {
                "amount": uint(9 * STX),
                "complete": bool_(True),
                "completed-at": uint(152311),
                "released": bool_(True),
            }
        )
    )
    dispute = read("get-dispute", 1, 3)
    assert dispute.value["filed-by"] == principal(CLIENT)  # type: ignore[union-attr]
    assert dispute.value["resolved-in-favor-of"] == none()  # type: ignore[union-attr]
    assert read("get-dispute", 1, 2) == none()
    assert read("get-project", 2) == none()


def test_call_read_at_an_older_tip(hiro: HiroServer, api: StacksApiClient) -> None:
    before = hiro.chain.tip
    hiro.escrow.create_project_stx(client=CLIENT, freelancer=FREELANCER, milestones=[STX])

    now = api.call_read(ESCROW, "get-project-count", sender=CLIENT)
    then = api.call_read(ESCROW, "get-project-count", sender=CLIENT, tip=before.index_hash)

    assert (now, then) == (uint(1), uint(0))


def test_call_read_of_a_public_function_fails_with_its_cause(api: StacksApiClient) -> None:
    with pytest.raises(CallReadFailed) as failed:
        api.call_read(ESCROW, "set-paused", [bool_(True)], sender=DEPLOYER)

    assert "NotReadOnly" in failed.value.cause


def test_call_read_of_an_unknown_function_is_not_found(api: StacksApiClient) -> None:
    with pytest.raises(StacksApiNotFound):
        api.call_read(ESCROW, "no-such-function", sender=CLIENT)


def test_call_read_override_answers_any_read_only(hiro: HiroServer, api: StacksApiClient) -> None:
    hiro.chain.read_only["get-token-name"] = lambda state, args: ok(string_ascii("STX"))

    assert api.call_read(ESCROW, "get-token-name", [uint(0)], sender=CLIENT) == ok(
        string_ascii("STX")
    )
