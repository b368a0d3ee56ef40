"""The blockchain API through DRF's test client, with the indexer run against the loopback Hiro
API and the live checks (call-read, tx lookups) answered by it too."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from chainsync import selectors, services
from chainsync.clarity import uint
from chainsync.client import StacksApiClient
from chainsync.models import ChainDispute, ChainEvent, ChainMilestone, ChainProject, SyncState
from chainsync.verify import project_differences
from projects.models import Project
from tests.chainsync.hiro_server import CLIENT, ESCROW_CONTRACT, FREELANCER, Fault, HiroServer
from tests.chainsync.scenarios import fund, pending_project
from tests.projects.test_apis import assert_error

pytestmark = pytest.mark.django_db

STX = 1_000_000
CONFIRMATIONS = 6
PROJECT_KEYS = {
    "onChainId",
    "projectId",
    "client",
    "freelancer",
    "token",
    "totalAmount",
    "feePaid",
    "refunded",
    "milestones",
    "disputes",
    "final",
}
EVENT_KEYS = {
    "txId",
    "eventIndex",
    "blockHeight",
    "blockHash",
    "burnBlockHeight",
    "txIndex",
    "sender",
    "functionName",
    "event",
    "payload",
    "canonical",
    "state",
    "error",
    "final",
}


@pytest.fixture
def chain(hiro: HiroServer, settings) -> HiroServer:
    """The loopback API as the configured Stacks API."""
    settings.CHAINSYNC = {
        **settings.CHAINSYNC,
        "STACKS_API_URL": hiro.url,
        "STACKS_API_RATE_LIMIT": 0,
        "ESCROW_CONTRACT_ID": ESCROW_CONTRACT,
        "CONFIRMATIONS": CONFIRMATIONS,
        "POLL_SECONDS": 10,
    }
    return hiro


def sync(hiro: HiroServer) -> services.SyncResult:
    api = StacksApiClient(hiro.url, rate_limit=0, max_retries=2, backoff_base=0.01)
    return services.sync_once(client=api, contract_id=ESCROW_CONTRACT)


def api_down(settings) -> None:
    settings.CHAINSYNC = {**settings.CHAINSYNC, "STACKS_API_URL": "http://127.0.0.1:9"}


def linked_project(hiro: HiroServer, amounts=(10 * STX, 20 * STX)) -> Project:
    """An off-chain project, funded on chain (not yet indexed)."""
    project = pending_project(amounts)
    fund(hiro, project, list(amounts))
    return project


def on_chain_only(hiro: HiroServer, milestones=(0, 5 * STX, 0, 7 * STX)):
    return hiro.escrow.create_project_stx(
        client=CLIENT, freelancer=FREELANCER, milestones=list(milestones)
    )


def verify(anon, **body):
    return anon.post("/api/blockchain/verify-tx", body, format="json")


# --- GET /api/blockchain/projects -----------------------------------------------------------


def test_projects_list_shows_the_indexed_view_of_every_on_chain_project(chain, anon):
    # given: a linked project with a dispute, and an on-chain-only one with sparse slots
    project = linked_project(chain)
    chain.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    chain.escrow.file_dispute(sender=CLIENT, project_id=1, milestone=1)
    on_chain_only(chain)
    sync(chain)
    # when
    response = anon.get("/api/blockchain/projects")
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["page"], body["pageSize"], body["next"]) == (2, 1, 20, None)
    first, second = body["results"]
    assert set(first) == PROJECT_KEYS
    assert first == {
        "onChainId": 1,
        "projectId": project.pk,
        "client": CLIENT,
        "freelancer": FREELANCER,
        "token": "STX",
        "totalAmount": 27 * STX,
        "feePaid": 3 * STX,
        "refunded": False,
        "milestones": [
            {"number": 1, "amount": 9 * STX, "complete": True, "released": False},
            {"number": 2, "amount": 18 * STX, "complete": False, "released": False},
        ],
        "disputes": [
            {"milestone": 1, "status": "open", "filedBy": CLIENT, "resolvedInFavorOf": None}
        ],
        "final": False,
    }
    assert second["onChainId"] == 2 and second["projectId"] is None
    assert [m["number"] for m in second["milestones"]] == [2, 4]


def test_projects_list_is_paginated(chain, anon):
    for _ in range(3):
        on_chain_only(chain)
    sync(chain)
    response = anon.get("/api/blockchain/projects?pageSize=2&page=2")
    body = response.json()
    assert (body["count"], body["page"], body["pageSize"]) == (3, 2, 2)
    assert [p["onChainId"] for p in body["results"]] == [3]
    assert body["previous"] and body["next"] is None
    assert_error(anon.get("/api/blockchain/projects?page=9"), 404, "not_found")
    assert_error(anon.get("/api/blockchain/projects?client=x"), 400, "validation_error", "client")


@pytest.mark.parametrize("projects", [1, 4])
def test_projects_list_costs_the_same_queries_whatever_its_length(
    chain, anon, django_assert_num_queries, projects
):
    for _ in range(projects):
        on_chain_only(chain)
    chain.escrow.file_dispute(sender=CLIENT, project_id=1, milestone=2)
    sync(chain)
    # count, projects (finality computed in the query), milestones, disputes
    with django_assert_num_queries(4):
        response = anon.get("/api/blockchain/projects")
    assert len(response.json()["results"]) == projects


def test_a_project_is_provisional_until_confirmations_blocks_bury_it(chain, anon):
    on_chain_only(chain)
    sync(chain)

    def final() -> bool:
        return anon.get("/api/blockchain/projects").json()["results"][0]["final"]

    assert final() is False
    chain.chain.advance(CONFIRMATIONS - 1)
    sync(chain)
    assert final() is False
    chain.chain.advance(1)
    sync(chain)
    assert final() is True
    assert anon.get("/api/blockchain/project/1").json()["final"] is True


def test_u128_amounts_beyond_2_53_are_decimal_strings_everywhere(chain, anon):
    # given: amounts a JavaScript number cannot hold exactly (but with few significant
    # digits: see the next test)
    big = 10**17
    on_chain_only(chain, milestones=(big, 1 * STX))
    sync(chain)
    # then
    project = anon.get("/api/blockchain/projects").json()["results"][0]
    assert project["totalAmount"] == str(big - big // 10 + 900_000)
    assert project["feePaid"] == str(big // 10 + 100_000)
    assert project["milestones"][0]["amount"] == str(big - big // 10)
    assert project["milestones"][1]["amount"] == 900_000  # small ones stay integers
    detail = anon.get("/api/blockchain/project/1").json()
    assert detail["inSync"] is True
    assert detail["onChain"]["totalAmount"] == project["totalAmount"]
    assert detail["onChain"]["milestones"][0]["amount"] == str(big - big // 10)
    event = anon.get("/api/blockchain/events").json()["results"][0]
    assert event["payload"]["gross-amount"] == str(big + 1 * STX)


def test_u128_amounts_keep_every_digit(chain, anon):
    big = 2**100 + 1
    on_chain_only(chain, milestones=(big,))
    sync(chain)
    project = anon.get("/api/blockchain/projects").json()["results"][0]
    assert project["totalAmount"] == str(big - big // 10)
    assert anon.get("/api/blockchain/project/1").json()["inSync"] is True


# --- GET /api/blockchain/project/:onChainId -------------------------------------------------


def test_project_detail_adds_the_live_state_and_agrees_with_it(chain, anon):
    linked_project(chain)
    chain.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    chain.escrow.release_milestone_stx(client=CLIENT, project_id=1, milestone=1)
    sync(chain)
    response = anon.get("/api/blockchain/project/1")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == PROJECT_KEYS | {"onChain", "inSync", "differences", "onChainError"}
    assert (body["inSync"], body["differences"], body["onChainError"]) == (True, [], None)
    created_burn = ChainProject.objects.get(on_chain_id=1).created_burn_height
    completed_burn = ChainMilestone.objects.get(slot=1).completed_burn_height
    assert body["onChain"] == {
        "client": CLIENT,
        "freelancer": FREELANCER,
        "token": "STX",
        "totalAmount": 27 * STX,
        "feePaid": 3 * STX,
        "refunded": False,
        "numMilestones": 2,
        "createdBurnHeight": created_burn,
        "milestones": [
            {
                "number": 1,
                "amount": 9 * STX,
                "complete": True,
                "released": True,
                "completedBurnHeight": completed_burn,
            },
            {
                "number": 2,
                "amount": 18 * STX,
                "complete": False,
                "released": False,
                "completedBurnHeight": 0,
            },
        ],
        "disputes": [],
    }
    # verify_sync's reading: at one tip, a get-dispute per slot holding a milestone
    reads = [r.path.rsplit("/", 1)[1] for r in chain.requests_to("call_read")]
    assert reads == ["get-project"] + ["get-milestone", "get-dispute"] * 2 + ["get-milestone"] * 2
    tip = chain.chain.tip.index_hash.removeprefix("0x")
    assert {r.params["tip"][0] for r in chain.requests_to("call_read")} == {tip}


def test_a_tampered_projection_row_is_out_of_sync_with_the_differences(chain, anon):
    on_chain_only(chain, milestones=(10 * STX, 20 * STX))
    sync(chain)
    # given: rows that no longer say what the chain says
    ChainProject.objects.filter(on_chain_id=1).update(total_amount=Decimal(27 * STX + 1))
    ChainMilestone.objects.filter(slot=2).update(released=True)
    ChainMilestone.objects.filter(slot=1).delete()
    # when
    body = anon.get("/api/blockchain/project/1").json()
    # then
    assert body["inSync"] is False and body["onChainError"] is None
    assert body["differences"] == [
        {"field": "totalAmount", "indexed": 27 * STX + 1, "onChain": 27 * STX},
        {
            "field": "milestones.1",
            "indexed": None,
            "onChain": {
                "number": 1,
                "amount": 9 * STX,
                "complete": False,
                "completedBurnHeight": 0,
                "released": False,
            },
        },
        {"field": "milestones.2.released", "indexed": True, "onChain": False},
    ]


def test_disputes_are_compared_too_and_agree_with_verify_sync(chain, anon):
    # given: a dispute filed on chain, then resolved there, and the projection tampered with
    on_chain_only(chain, milestones=(10 * STX, 20 * STX))
    chain.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    chain.escrow.file_dispute(sender=CLIENT, project_id=1, milestone=1)
    chain.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=2)
    chain.escrow.file_dispute(sender=FREELANCER, project_id=1, milestone=2)
    chain.escrow.resolve_dispute_stx(project_id=1, milestone=2, to_freelancer=False)
    sync(chain)
    body = anon.get("/api/blockchain/project/1").json()
    assert body["inSync"] is True
    filed_at = ChainDispute.objects.get(slot=1).filed_burn_height
    assert body["onChain"]["disputes"][0] == {
        "milestone": 1,
        "status": "open",
        "filedBy": CLIENT,
        "filedBurnHeight": filed_at,
        "resolvedInFavorOf": None,
    }
    assert body["onChain"]["disputes"][1]["resolvedInFavorOf"] == CLIENT
    ChainDispute.objects.filter(slot=1).delete()
    ChainDispute.objects.filter(slot=2).update(status="open", resolved_in_favor_of="")
    ChainMilestone.objects.filter(slot=1).update(completed_burn_height=1)
    # when
    live = selectors.chain_project_live_check(on_chain_id=1)
    # then: the API lists what verify_sync lists, field by field
    assert live.in_sync is False
    assert [d["field"] for d in live.differences] == [
        "milestones.1.completedBurnHeight",
        "disputes.1",
        "disputes.2.status",
        "disputes.2.resolvedInFavorOf",
    ]
    assert live.differences[1]["indexed"] is None
    assert live.differences[1]["on_chain"]["filedBy"] == CLIENT
    assert live.differences[2:] == [
        {"field": "disputes.2.status", "indexed": "open", "on_chain": "resolved"},
        {"field": "disputes.2.resolvedInFavorOf", "indexed": None, "on_chain": CLIENT},
    ]
    api = StacksApiClient(chain.url, rate_limit=0)
    checked, found = project_differences(client=api, contract_id=ESCROW_CONTRACT)
    assert [d.field for d in found] == [
        "milestone 1.completed_burn_height",
        "dispute 1",
        "dispute 2.status",
        "dispute 2.resolved_in_favor_of",
    ]


def test_the_live_check_of_a_project_the_projection_lacks(chain, anon):
    # given: a project on chain that the indexer has not seen yet
    on_chain_only(chain)
    # when
    live = selectors.chain_project_live_check(on_chain_id=1)
    # then
    assert (live.in_sync, live.error) == (False, None)
    assert live.on_chain["total_amount"] == 10_800_000
    assert live.differences == [{"field": "project", "indexed": None, "on_chain": 1}]


def test_a_project_the_contract_does_not_know_is_out_of_sync(chain, anon):
    on_chain_only(chain)
    sync(chain)
    ChainProject.objects.filter(on_chain_id=1).update(on_chain_id=7)
    body = anon.get("/api/blockchain/project/7").json()
    assert (body["onChain"], body["inSync"], body["onChainError"]) == (None, False, None)
    assert body["differences"] == [{"field": "project", "indexed": 7, "onChain": None}]


def test_api_down_gives_no_live_state_and_no_500(chain, anon, settings):
    on_chain_only(chain)
    sync(chain)
    api_down(settings)
    response = anon.get("/api/blockchain/project/1")
    assert response.status_code == 200
    body = response.json()
    assert (body["onChain"], body["inSync"], body["differences"]) == (None, None, [])
    assert "Stacks API" in body["onChainError"]
    assert body["onChainId"] == 1 and body["totalAmount"] == 10_800_000  # the index still answers


def test_api_errors_are_not_asked_again_at_every_request(chain, anon):
    on_chain_only(chain)
    sync(chain)
    chain.inject("call_read", Fault.error(500), times=None)
    assert anon.get("/api/blockchain/project/1").json()["onChainError"]
    asked = len(chain.requests_to("call_read"))
    assert asked == 2  # one retry
    assert anon.get("/api/blockchain/project/1").json()["onChainError"]
    assert len(chain.requests_to("call_read")) == asked


def test_the_live_state_is_cached_but_never_older_than_the_indexed_view(chain, anon, settings):
    on_chain_only(chain)
    sync(chain)
    assert anon.get("/api/blockchain/project/1").json()["inSync"] is True
    asked = len(chain.requests_to("call_read"))
    # cached: no new reads
    assert anon.get("/api/blockchain/project/1").json()["inSync"] is True
    assert len(chain.requests_to("call_read")) == asked
    # a new event indexed: the cached live state is older than the view, so it is read again
    chain.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=2)
    sync(chain)
    body = anon.get("/api/blockchain/project/1").json()
    assert body["inSync"] is True and body["onChain"]["milestones"][0]["complete"] is True
    assert len(chain.requests_to("call_read")) == 2 * asked


def test_the_cache_lifetime_is_a_setting(chain, anon, settings):
    settings.CHAINSYNC = {**settings.CHAINSYNC, "ONCHAIN_CACHE_SECONDS": 0}
    on_chain_only(chain)
    sync(chain)
    anon.get("/api/blockchain/project/1")
    anon.get("/api/blockchain/project/1")
    # each: get-project, 4 get-milestone, a get-dispute for each of the 2 milestones
    assert len(chain.requests_to("call_read")) == 2 * 7


def test_project_detail_of_an_unknown_project_is_a_404(chain, anon):
    assert_error(anon.get("/api/blockchain/project/5"), 404, "not_found")
    assert_error(anon.get("/api/blockchain/project/x"), 404, "not_found")
    assert chain.requests_to("call_read") == []


def test_a_stale_token_does_not_keep_anyone_from_public_chain_data(chain, anon):
    anon.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert anon.get("/api/blockchain/projects").status_code == 200


# --- GET /api/blockchain/events -------------------------------------------------------------


def test_events_in_chain_order_with_their_shape(chain, anon):
    create = on_chain_only(chain)
    complete = chain.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=2)
    sync(chain)
    body = anon.get("/api/blockchain/events").json()
    assert body["count"] == 2
    first, second = body["results"]
    assert set(first) == EVENT_KEYS
    stored = ChainEvent.objects.get(tx_id=create.tx_id)
    assert first == {
        "txId": create.tx_id,
        "eventIndex": stored.event_index,
        "blockHeight": stored.block_height,
        "blockHash": stored.block_hash,
        "burnBlockHeight": stored.burn_block_height,
        "txIndex": 0,
        "sender": CLIENT,
        "functionName": "create-project-stx",
        "event": "project-created",
        "payload": {
            "project-id": 1,
            "client": CLIENT,
            "freelancer": FREELANCER,
            "gross-amount": 12 * STX,
            "net-escrow": 10_800_000,
            "fee-collected": 1_200_000,
            "num-milestones": 2,
            "token": "STX",
        },
        "canonical": True,
        "state": "applied",
        "error": None,
        "final": False,
    }
    assert (second["txId"], second["event"]) == (complete.tx_id, "milestone-completed")
    assert second["blockHeight"] > first["blockHeight"]


def test_events_filters_and_pagination(chain, anon, django_assert_num_queries):
    on_chain_only(chain)
    on_chain_only(chain)
    chain.escrow.complete_milestone(freelancer=FREELANCER, project_id=2, milestone=4)
    middle = chain.chain.tip.height
    chain.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=2)
    sync(chain)

    def names(url: str) -> list[tuple[str, int]]:
        rows = anon.get(url).json()["results"]
        return [(row["event"], row["payload"]["project-id"]) for row in rows]

    assert names("/api/blockchain/events?project=1") == [
        ("project-created", 1),
        ("milestone-completed", 1),
    ]
    assert names("/api/blockchain/events?type=milestone-completed") == [
        ("milestone-completed", 2),
        ("milestone-completed", 1),
    ]
    assert names(f"/api/blockchain/events?since={middle}") == [
        ("milestone-completed", 2),
        ("milestone-completed", 1),
    ]
    assert names(f"/api/blockchain/events?since={middle}&project=2&type=milestone-completed") == [
        ("milestone-completed", 2)
    ]
    page = anon.get("/api/blockchain/events?pageSize=3&page=2").json()
    assert (page["count"], len(page["results"]), page["next"]) == (4, 1, None)
    with django_assert_num_queries(2):  # count, page (finality computed in the query)
        assert anon.get("/api/blockchain/events").status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("type=bogus", "type"),
        ("since=-1", "since"),
        ("since=abc", "since"),
        ("project=0", "project"),
        ("project=99999999999999999999", "project"),
        ("contract=x", "contract"),
    ],
)
def test_events_refuse_bad_filters(chain, anon, query, field):
    assert_error(anon.get(f"/api/blockchain/events?{query}"), 400, "validation_error", field)


def test_events_become_final_once_buried_and_failed_ones_show_why(chain, anon):
    from chainsync.clarity import string_ascii, tuple_
    from tests.chainsync.hiro_server import Print

    ghost = Print(tuple_({"event": string_ascii("mystery"), "project-id": uint(9)}))
    chain.chain.call("complete-milestone", sender=FREELANCER, args=[uint(9)], prints=[ghost])
    chain.chain.advance(CONFIRMATIONS)
    on_chain_only(chain)
    sync(chain)
    failed, created = anon.get("/api/blockchain/events").json()["results"]
    assert (failed["state"], failed["event"], failed["final"]) == ("failed", None, True)
    assert "unknown event 'mystery'" in failed["error"]
    assert (created["state"], created["final"]) == ("applied", False)


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


# --- GET /api/blockchain/sync-status --------------------------------------------------------


def status(anon) -> dict:
    response = anon.get("/api/blockchain/sync-status")
    assert response.status_code == 200
    return response.json()


def test_sync_status_of_an_indexer_that_keeps_up(chain, anon):
    on_chain_only(chain)
    sync(chain)
    # a long stretch without events: still caught up
    chain.chain.advance(50)
    sync(chain)
    body = status(anon)
    tip = chain.chain.tip.height
    assert set(body) == {
        "lastIndexedBlock",
        "currentBlock",
        "lag",
        "lastPollAt",
        "lastSuccessAt",
        "lastError",
        "healthy",
    }
    assert (body["lastIndexedBlock"], body["currentBlock"], body["lag"]) == (tip, tip, 0)
    assert (body["lastError"], body["healthy"]) == (None, True)
    assert body["lastPollAt"] and body["lastSuccessAt"]


def test_sync_status_before_the_indexer_ever_ran(chain, anon):
    body = status(anon)
    assert body == {
        "lastIndexedBlock": 0,
        "currentBlock": 0,
        "lag": 0,
        "lastPollAt": None,
        "lastSuccessAt": None,
        "lastError": None,
        "healthy": False,
    }


def test_sync_status_of_an_indexer_that_lags(chain, anon):
    on_chain_only(chain)
    created = chain.chain.tip.height
    chain.chain.advance(40)
    # fetched, but the new project's amounts are unknown: its event waits
    services.chain_fetch(
        client=StacksApiClient(chain.url, rate_limit=0), contract_id=ESCROW_CONTRACT
    )
    SyncState.objects.update(last_success_at=timezone.now())
    body = status(anon)
    assert (body["lastIndexedBlock"], body["lag"]) == (created - 1, 41)
    assert body["healthy"] is False


def test_sync_status_of_an_indexer_that_stopped_or_fails(chain, anon, settings):
    sync(chain)
    SyncState.objects.update(last_success_at=timezone.now() - timedelta(seconds=31))
    assert status(anon)["healthy"] is False
    SyncState.objects.update(last_success_at=timezone.now())
    assert status(anon)["healthy"] is True
    services.sync_failure_record(contract_id=ESCROW_CONTRACT, error="contract_logs: HTTP 500")
    body = status(anon)
    assert body["lastError"] == "contract_logs: HTTP 500"


def test_sync_status_lag_threshold_is_a_setting(chain, anon, settings):
    on_chain_only(chain)
    chain.chain.advance(5)
    services.chain_fetch(
        client=StacksApiClient(chain.url, rate_limit=0), contract_id=ESCROW_CONTRACT
    )
    SyncState.objects.update(last_success_at=timezone.now())
    assert status(anon)["lag"] == 6 and status(anon)["healthy"] is True
    settings.CHAINSYNC = {**settings.CHAINSYNC, "MAX_LAG_BLOCKS": 6}
    assert status(anon)["healthy"] is False


# --- no network I/O inside a database transaction -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_stacks_api_is_never_called_inside_a_database_transaction(chain, anon, monkeypatch):
    create = on_chain_only(chain)
    sync(chain)
    send = StacksApiClient._send
    inside: list[bool] = []

    def watched(self, *args, **kwargs):
        inside.append(connection.in_atomic_block)
        return send(self, *args, **kwargs)

    monkeypatch.setattr(StacksApiClient, "_send", watched)
    assert anon.get("/api/blockchain/project/1").json()["inSync"] is True
    assert verify(anon, txId=create.tx_id).json()["confirmed"] is True
    assert inside == [False] * 9  # the tip, 7 reads, 1 lookup
