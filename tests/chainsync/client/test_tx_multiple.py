"""Batch look-ups through `GET /extended/v1/tx/multiple`: the fake API's shape, and
`StacksApiClient.transactions_get` (TX_MULTIPLE_MAX_IDS ids a request, unknown ids left out,
the route's absence met by one look-up per id)."""

from __future__ import annotations

import pytest
import requests

from chainsync.client import TX_MULTIPLE_MAX_IDS, StacksApiClient
from stacks import ok, uint
from tests.chainsync.client.helpers import sample, sample_story
from tests.chainsync.hiro_server import DEPLOYER, HiroServer, events

UNKNOWN = "0x" + "ab" * 32


def test_the_fake_answers_a_map_by_id_with_unknown_ids_not_found(hiro: HiroServer) -> None:
    create = sample_story(hiro)["create"]

    answer = requests.get(
        hiro.url + "/extended/v1/tx/multiple",
        params={"tx_id": f"{create.tx_id},{UNKNOWN}"},
        timeout=5,
    ).json()

    assert set(answer) == {create.tx_id, UNKNOWN}
    assert answer[UNKNOWN] == {"found": False, "result": {"tx_id": UNKNOWN}}
    found = answer[create.tx_id]
    assert found["found"] is True
    one = requests.get(hiro.url + f"/extended/v1/tx/{create.tx_id}", timeout=5).json()
    assert found["result"] == one  # the v1 tx of /extended/v1/tx/{id}, events included


def test_the_fake_refuses_an_id_without_its_prefix(hiro: HiroServer) -> None:
    response = requests.get(
        hiro.url + "/extended/v1/tx/multiple", params={"tx_id": "ab" * 32}, timeout=5
    )

    assert response.status_code == 400


def test_transactions_get_reads_args_result_and_events_in_one_request(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    story = sample_story(hiro)
    expected_args = [
        arg["hex"] for arg in sample("v3_transaction")["contract_call"]["function_args"]
    ]

    found = api.transactions_get([story["create"].tx_id, story["aborted"].tx_id, UNKNOWN])

    assert set(found) == {story["create"].tx_id, story["aborted"].tx_id}
    create = found[story["create"].tx_id]
    assert create.contract_call is not None
    assert list(create.contract_call.function_args or ()) == expected_args
    assert create.result() == ok(uint(1))
    assert create.canonical and create.event_count == 3 and len(create.events or ()) == 3
    assert found[story["aborted"].tx_id].status == "abort_by_response"
    (request,) = hiro.requests_to("tx_multiple")
    assert sorted(request.params["tx_id"]) == sorted(
        [story["create"].tx_id, story["aborted"].tx_id, UNKNOWN]
    )
    assert hiro.route_counts()["tx_v3"] == 0


def test_ids_go_at_most_fifty_a_request(hiro: HiroServer, api: StacksApiClient) -> None:
    txs = [hiro.chain.call("admin-reset-milestone", sender=DEPLOYER) for _ in range(3)]
    ids = [tx.tx_id for tx in txs] + [f"0x{n:064x}" for n in range(117)]

    found = api.transactions_get(ids)

    assert set(found) == {tx.tx_id for tx in txs}
    sizes = [len(r.params["tx_id"]) for r in hiro.requests_to("tx_multiple")]
    assert TX_MULTIPLE_MAX_IDS == 50 and sizes == [50, 50, 20]


def test_no_ids_no_request(hiro: HiroServer, api: StacksApiClient) -> None:
    assert api.transactions_get([]) == {}
    assert hiro.requests == []


def test_a_malformed_id_is_refused_before_any_request(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    with pytest.raises(ValueError, match="invalid tx id"):
        api.transactions_get(["0x12"])
    assert hiro.requests == []


def test_an_orphaned_tx_reads_from_the_mempool_and_a_never_seen_one_is_not_found(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    story = sample_story(hiro)
    hiro.chain.fork(3, [], [], [])  # complete, release and the abort drop back to the mempool
    hiro.chain.drop(story["release"])
    complete, release = story["complete"].tx_id, story["release"].tx_id

    found = api.transactions_get([complete, release, UNKNOWN])

    assert set(found) == {complete, release}
    assert (found[complete].status, found[complete].mined) == ("pending", False)
    assert (found[release].status, found[release].canonical) == ("dropped_replace_by_fee", False)


def test_events_beyond_one_answer_are_read_from_v1_pages(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    prints = [events.milestone_reset(project_id=1, milestone=i) for i in range(130)]
    tx = hiro.chain.call("admin-reset-milestone", sender=DEPLOYER, prints=prints)

    found = api.transactions_get([tx.tx_id])

    assert [event.event_index for event in found[tx.tx_id].events or ()] == list(range(130))
    assert hiro.route_counts()["tx_multiple"] == 1


def test_without_the_route_each_id_is_looked_up(hiro: HiroServer, api: StacksApiClient) -> None:
    story = sample_story(hiro)
    hiro.disable("tx_multiple")

    first = api.transactions_get([story["create"].tx_id, UNKNOWN])
    again = api.transactions_get([story["release"].tx_id])

    assert list(first) == [story["create"].tx_id] and list(again) == [story["release"].tx_id]
    assert first[story["create"].tx_id].contract_call is not None
    assert len(hiro.requests_to("tx_multiple")) == 1  # found missing once, not asked again
