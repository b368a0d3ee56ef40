"""GET /api/blockchain/projects and /project/:onChainId (with the live check against the
contract) through DRF's test client, with the indexer run against the loopback Hiro API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chainsync import selectors
from chainsync.client import StacksApiClient
from chainsync.models import ChainDispute, ChainMilestone, ChainProject
from chainsync.verify import project_differences
from tests.chainsync.apis.helpers import (
    CONFIRMATIONS,
    PROJECT_KEYS,
    STX,
    api_down,
    linked_project,
    on_chain_only,
    sync,
)
from tests.chainsync.hiro_server import CLIENT, ESCROW_CONTRACT, FREELANCER, Fault
from tests.projects.test_apis import assert_error

pytestmark = pytest.mark.django_db


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
